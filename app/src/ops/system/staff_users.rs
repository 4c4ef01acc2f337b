//! System → Staff Users (admins): the clerks and admins, inviting one by email (they choose
//! their password from the link), making one a clerk or an admin, and disabling one (signed
//! out everywhere, their open links spent), and letting a clerk give money back (admins always
//! may). No admin changes their own account here, and the last active admin stays one.

use super::api_keys::when;
use crate::components::invite::{InviteAction, InviteForm};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::{action_error, loading_rows, DataTable, ErrorBanner, ErrorView};
use crate::server_fns::people::{
    invite_staff_user, set_staff_user_active, set_staff_user_role, staff_users,
};
use crate::server_fns::refunds::set_may_refund;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::auth::{Role, SessionUser, StaffUser};

/// A change an admin asks for, confirmed first.
#[derive(Clone)]
enum Change {
    Active(StaffUser, bool),
    Role(StaffUser, Role),
    Refunds(StaffUser, bool),
}

impl Change {
    fn user(&self) -> &StaffUser {
        match self {
            Change::Active(u, _) | Change::Role(u, _) | Change::Refunds(u, _) => u,
        }
    }

    /// The dialog's title, question, detail and button.
    fn words(&self) -> (String, String, String, String) {
        let u = self.user();
        let who = format!("{} ({})", u.name, u.email);
        match self {
            Change::Active(_, false) => (
                "Disable this staff user?".into(),
                format!("Disable {who}?"),
                "They are signed out at once, their open invitation and reset links stop working, and they cannot sign in until enabled again. What they did stays in the audit history.".into(),
                "Disable".into(),
            ),
            Change::Active(_, true) => (
                "Enable this staff user?".into(),
                format!("Enable {who}?"),
                "They can sign in again with their password, or ask for a reset link.".into(),
                "Enable".into(),
            ),
            Change::Role(_, role) => (
                format!("Make {} {}?", u.name, if *role == Role::Admin { "an admin" } else { "a clerk" }),
                format!("Change {who} from {} to {}?", u.role.label().to_lowercase(), role.label().to_lowercase()),
                if *role == Role::Admin {
                    "Admins also manage staff and customer users, API keys, webhooks and imports.".into()
                } else {
                    "They keep taking payments and managing methods, but no longer manage users or integrations.".into()
                },
                format!("Make {}", role.label().to_lowercase()),
            ),
            Change::Refunds(_, true) => (
                "Allow refunds?".into(),
                format!("Let {who} give money back?"),
                "They can refund payments and reverse ERP records up to the approval limit; above it an admin approves.".into(),
                "Allow refunds".into(),
            ),
            Change::Refunds(_, false) => (
                "Stop refunds?".into(),
                format!("Stop {who} giving money back?"),
                "Refunds they already asked for stay as they are.".into(),
                "Stop refunds".into(),
            ),
        }
    }

    /// What the page says once it is done.
    fn done(&self) -> String {
        let name = &self.user().name;
        match self {
            Change::Active(_, false) => format!("{name} is disabled and signed out everywhere."),
            Change::Active(_, true) => format!("{name} can sign in again."),
            Change::Refunds(_, true) => format!("{name} may now give money back."),
            Change::Refunds(_, false) => format!("{name} may no longer give money back."),
            Change::Role(_, role) => format!(
                "{name} is now {}.",
                if *role == Role::Admin {
                    "an admin"
                } else {
                    "a clerk"
                }
            ),
        }
    }
}

#[component]
pub fn StaffUsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = Resource::new(move || version.get(), |_| staff_users());
    let inviting = RwSignal::new(false);
    // The staff shell provides who is signed in: their own row offers no changes.
    let me = use_context::<SessionUser>().map(|u| u.id);
    let message = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(None::<Change>);
    let change = Action::new(move |c: &Change| {
        let c = c.clone();
        async move {
            let id = c.user().id;
            match &c {
                Change::Active(_, active) => set_staff_user_active(id, *active).await,
                Change::Role(_, role) => {
                    let role = if *role == Role::Admin {
                        "admin"
                    } else {
                        "clerk"
                    };
                    set_staff_user_role(id, role.to_string()).await
                }
                Change::Refunds(_, may) => set_may_refund(id, *may).await,
            }
            .map(|_| c.done())
        }
    });
    Effect::new(move |_| match change.value().get() {
        Some(Ok(done)) => {
            message.set(Some(done));
            confirming.set(None);
            version.update(|v| *v += 1);
        }
        Some(Err(_)) => confirming.set(None),
        None => {}
    });
    let change_error = action_error(change);
    view! {
        <Title text="Staff Users"/>
        <div class="page-head with-action">
            <div>
                <h1>"Staff Users"</h1>
                <p class="subtitle">"Clerks take payments and manage methods for any company; admins also manage users and integrations."</p>
            </div>
            <button type="button" class="btn btn-primary" on:click=move |_| inviting.set(true)>"Invite a staff user"</button>
        </div>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="staff-message">{m}</div> })}
        </div>
        <ErrorBanner message=change_error/>
        <Transition fallback=move || loading_rows(5)>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => view! {
                        <DataTable label="Staff users" testid="staff-users">
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Refunds"</th>
                                <th scope="col">"Last sign-in (UTC)"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let (tone, status) = match (u.active, u.must_set_password) {
                                        (false, _) => ("badge-neutral", "Disabled"),
                                        (true, true) => ("badge-amber", "Invited"),
                                        (true, false) => ("badge-green", "Active"),
                                    };
                                    let email = u.email.clone();
                                    let own = me == Some(u.id);
                                    let other_role = if u.role == Role::Admin { Role::Clerk } else { Role::Admin };
                                    let actions = (!own).then(|| {
                                        let (role_user, active_user, refund_user) = (u.clone(), u.clone(), u.clone());
                                        let refunds_action = (u.role == Role::Clerk).then(|| {
                                            let (verb, label) = if u.may_refund {
                                                ("Stop refunds", format!("Stop refunds by {}", u.name))
                                            } else {
                                                ("Allow refunds", format!("Allow refunds by {}", u.name))
                                            };
                                            view! {
                                                <button type="button" class="btn btn-small" aria-label=label
                                                    disabled=move || change.pending().get()
                                                    on:click=move |_| { message.set(None); confirming.set(Some(Change::Refunds(refund_user.clone(), !refund_user.may_refund))); }>
                                                    {verb}
                                                </button>
                                            }
                                        });
                                        let role_label = format!("Make {} {}", u.name, other_role.label().to_lowercase());
                                        let (verb, active_label) = if u.active {
                                            ("Disable", format!("Disable {}", u.name))
                                        } else {
                                            ("Enable", format!("Enable {}", u.name))
                                        };
                                        view! {
                                            <button type="button" class="btn btn-small" aria-label=role_label
                                                disabled=move || change.pending().get()
                                                on:click=move |_| { message.set(None); confirming.set(Some(Change::Role(role_user.clone(), other_role))); }>
                                                {format!("Make {}", other_role.label().to_lowercase())}
                                            </button>
                                            <button type="button" class="btn btn-small" aria-label=active_label
                                                disabled=move || change.pending().get()
                                                on:click=move |_| { message.set(None); confirming.set(Some(Change::Active(active_user.clone(), !active_user.active))); }>
                                                {verb}
                                            </button>
                                            {refunds_action}
                                        }
                                    });
                                    let refunds = match (u.role, u.may_refund) {
                                        (Role::Admin, _) => "Always (admin)",
                                        (_, true) => "Allowed",
                                        _ => "Not allowed",
                                    };
                                    view! {
                                        <tr data-user=email>
                                            <td>{u.name.clone()}{own.then(|| view! { <span class="muted small">" (you)"</span> })}</td>
                                            <td>{u.email.clone()}</td>
                                            <td>{u.role.label()}</td>
                                            <td><span class=format!("badge {tone}")>{status}</span></td>
                                            <td data-testid="may-refund">{refunds}</td>
                                            <td>{when(u.last_sign_in, "Never")}</td>
                                            <td class="actions-cell">{actions}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </DataTable>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || confirming.get().map(|c| {
            let (title, question, detail, confirm) = c.words();
            let danger = matches!(c, Change::Active(_, false));
            view! {
                <ConfirmDialog title=title question=question detail=detail confirm=confirm danger=danger
                    pending=change.pending()
                    on_confirm=Callback::new(move |_| { change.dispatch(c.clone()); })
                    on_cancel=Callback::new(move |_| confirming.set(None))/>
            }
        })}
        {move || inviting.get().then(|| {
            let send: InviteAction = Action::new(|(n, e, r): &(String, String, String)| {
                invite_staff_user(n.clone(), e.clone(), r.clone())
            });
            let done = Callback::new(move |sent: bool| {
                inviting.set(false);
                if sent { version.update(|v| *v += 1); }
            });
            view! {
                <Modal title="Invite a staff user" on_close=Callback::new(move |_| done.run(send.value().get_untracked().is_some_and(|r| r.is_ok())))>
                    <InviteForm send=send with_role=true on_done=done/>
                </Modal>
            }
        })}
    }
}
