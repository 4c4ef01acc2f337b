//! Stripe's request bodies: `application/x-www-form-urlencoded`, nested objects written with
//! brackets (`metadata[settle_key]=…`, `mandate_data[customer_acceptance][online][ip_address]=…`)
//! and arrays with empty brackets (`payment_method_types[]=card`), as the description's
//! `encoding` (style `deepObject`, explode) and Stripe's API reference give them.

/// One request body, built in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// A value at `path` (`["metadata", "settle_key"]` is `metadata[settle_key]`).
    pub fn set(mut self, path: &[&str], value: impl Into<String>) -> Form {
        self.pairs.push((key(path), value.into()));
        self
    }

    /// Each of `values` as an element of the array at `path` (`path[]=…`).
    pub fn list(mut self, path: &[&str], values: &[&str]) -> Form {
        let k = format!("{}[]", key(path));
        self.pairs
            .extend(values.iter().map(|v| (k.clone(), v.to_string())));
        self
    }

    /// The encoded body.
    pub fn encode(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

fn key(path: &[&str]) -> String {
    let mut k = path.first().copied().unwrap_or_default().to_string();
    for part in &path[1.min(path.len())..] {
        k.push('[');
        k.push_str(part);
        k.push(']');
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_and_arrays_as_stripe_reads_them() {
        let body = Form::new()
            .set(&["amount"], "1099")
            .set(&["currency"], "usd")
            .list(&["payment_method_types"], &["card", "us_bank_account"])
            .set(&["metadata", "settle_key"], "9f0c.2")
            .set(
                &[
                    "mandate_data",
                    "customer_acceptance",
                    "online",
                    "user_agent",
                ],
                "Mozilla/5.0 (X11; Linux)",
            )
            .set(&["description"], "Invoices INV-1 & INV-2")
            .encode();
        assert_eq!(
            body,
            "amount=1099&currency=usd&payment_method_types%5B%5D=card\
             &payment_method_types%5B%5D=us_bank_account&metadata%5Bsettle_key%5D=9f0c.2\
             &mandate_data%5Bcustomer_acceptance%5D%5Bonline%5D%5Buser_agent%5D=Mozilla%2F5.0+%28X11%3B+Linux%29\
             &description=Invoices+INV-1+%26+INV-2"
        );
        assert_eq!(Form::new().encode(), "");
    }
}
