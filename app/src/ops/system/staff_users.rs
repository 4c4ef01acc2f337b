//! System → Staff Users (admins): the clerks and admins, and inviting one by email (they
//! choose their password from the link).

use super::api_keys::when;
use crate::api_email::{invite_staff_user, staff_users};
use crate::components::invite::{InviteAction, InviteForm};
use crate::components::modal::Modal;
use crate::components::{loading_rows, DataTable, ErrorView};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffUsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = Resource::new(move || version.get(), |_| staff_users());
    let inviting = RwSignal::new(false);
    view! {
        <Title text="Staff Users"/>
        <div class="page-head with-action">
            <div>
                <h1>"Staff Users"</h1>
                <p class="subtitle">"Clerks take payments and manage methods for any company; admins also manage users and integrations."</p>
            </div>
            <button type="button" class="btn btn-primary" on:click=move |_| inviting.set(true)>"Invite a staff user"</button>
        </div>
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
                                <th scope="col">"Last sign-in (UTC)"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let (tone, status) = match (u.active, u.must_set_password) {
                                        (false, _) => ("badge-neutral", "Disabled"),
                                        (true, true) => ("badge-amber", "Invited"),
                                        (true, false) => ("badge-green", "Active"),
                                    };
                                    let email = u.email.clone();
                                    view! {
                                        <tr data-user=email>
                                            <td>{u.name}</td>
                                            <td>{u.email}</td>
                                            <td>{u.role.label()}</td>
                                            <td><span class=format!("badge {tone}")>{status}</span></td>
                                            <td>{when(u.last_sign_in, "Never")}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </DataTable>
                    }.into_any(),
                }
            })}
        </Transition>
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
