//! The screens a browser loads only when it goes to one of them: every staff screen is split
//! out of the WASM the login page and the customer portal load (`cargo leptos build --split`),
//! so a customer never downloads them. The server renders them like any other route.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A route whose view is a component loaded on demand (it loads its own data).
macro_rules! lazy_screen {
    ($route:ident => $component:path) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                $component().into_any()
            }
        }
    };
}

lazy_screen!(OpsScreen => crate::ops::OpsShell);
lazy_screen!(DashboardScreen => crate::ops::dashboard::DashboardPage);
lazy_screen!(CompaniesScreen => crate::ops::crm::companies::CompaniesPage);
lazy_screen!(CompanyScreen => crate::ops::crm::company::CompanyPage);
lazy_screen!(OpenInvoicesScreen => crate::ops::crm::company::open_invoices::OpenInvoicesTab);
lazy_screen!(CompanyPaymentsScreen => crate::ops::crm::company::payments::PaymentsTab);
lazy_screen!(CompanyMethodsScreen => crate::ops::crm::company::payment_methods::PaymentMethodsTab);
lazy_screen!(ContactsScreen => crate::ops::crm::company::contacts::ContactsTab);
lazy_screen!(UsersScreen => crate::ops::crm::company::users::UsersTab);
lazy_screen!(MethodsScreen => crate::ops::system::payment_methods::PaymentMethodsPage);
lazy_screen!(MethodScreen => crate::ops::system::payment_method::PaymentMethodPage);
lazy_screen!(AwaitingGatewayScreen => crate::ops::system::awaiting_gateway::AwaitingGatewayPage);
lazy_screen!(DisputesScreen => crate::ops::system::disputes::DisputesPage);
lazy_screen!(RefundApprovalsScreen => crate::ops::system::refund_approvals::RefundApprovalsPage);
lazy_screen!(AchFilesScreen => crate::ops::system::ach_files::AchFilesPage);
lazy_screen!(AchFileScreen => crate::ops::system::ach_files::AchFilePage);
lazy_screen!(PaymentsScreen => crate::ops::payments::PaymentsPage);
lazy_screen!(AgingScreen => crate::ops::reports::AgingPage);
lazy_screen!(CompanyAgingScreen => crate::ops::reports::CompanyAgingPage);
lazy_screen!(AuthorizationsScreen => crate::ops::authorizations::AuthorizationsPage);
lazy_screen!(DepositsScreen => crate::ops::deposits::DepositsScreens);
lazy_screen!(ApiKeysScreen => crate::ops::system::api_keys::ApiKeysPage);
lazy_screen!(WebhooksScreen => crate::ops::system::webhooks::WebhooksPage);
lazy_screen!(WebhookScreen => crate::ops::system::webhooks::WebhookPage);
lazy_screen!(ImportScreen => crate::ops::system::import::ImportPage);
lazy_screen!(EmailScreen => crate::ops::system::email::EmailPage);
// The seller's settings of how customers pay: the payment policy and the statements.
lazy_screen!(PaymentPolicyScreen => crate::ops::statements::SellerSettingsScreens);
lazy_screen!(CompanyPolicyScreen => crate::ops::policy::CompanyPolicyTab);
lazy_screen!(ReasonCodesScreen => crate::ops::system::reason_codes::ReasonCodesPage);
lazy_screen!(StaffUsersScreen => crate::ops::system::staff_users::StaffUsersPage);
lazy_screen!(PayLinksScreen => crate::ops::crm::company::pay_links::PayLinksTab);
lazy_screen!(ForgotPasswordScreen => crate::public::account::ForgotPasswordPage);
lazy_screen!(InviteScreen => crate::public::account::InvitePage);
lazy_screen!(ResetPasswordScreen => crate::public::account::ResetPasswordPage);
lazy_screen!(PayLinkScreen => crate::public::pay::PayLinkPage);
lazy_screen!(ReceiptLinkScreen => crate::public::pay::ReceiptLinkPage);
