//! CRM menu: companies.

pub mod companies;
pub mod company;
