//! System menu: payment methods, and payments awaiting the gateway.

pub mod awaiting_gateway;
pub mod payment_method;
pub mod payment_methods;
