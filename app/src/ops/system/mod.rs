//! System menu: payment methods.

pub mod payment_method;
pub mod payment_methods;
