//! The sign-in page.

use crate::components::{ErrorBanner, TextField};
use crate::server_fns::people::{demo_accounts, Login};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let demo = Resource::new(|| (), |_| demo_accounts());
    let error = move || login.value().get().and_then(|r| r.err());
    let email_ref = NodeRef::<html::Input>::new();
    let password_ref = NodeRef::<html::Input>::new();
    let new_password_ref = NodeRef::<html::Input>::new();
    // A user signing in with a temporary password is asked for their own; the field stays
    // once shown.
    let choosing = RwSignal::new(false);
    // The first field with an error gets focus.
    Effect::new(move |_| {
        if let Some(e) = error() {
            if e.message_for("new_password").is_some() {
                choosing.set(true);
            }
            let target = if e.message_for("email").is_some() {
                email_ref
            } else if e.message_for("new_password").is_some() {
                new_password_ref
            } else {
                password_ref
            };
            if let Some(input) = target.get() {
                let _ = input.focus();
            }
        }
    });
    let field_error = move |field: &'static str| {
        Signal::derive(move || error().and_then(|e| e.message_for(field)))
    };
    let general_error = Signal::derive(move || {
        error()
            .filter(|e| e.app().field().is_none())
            .map(|e| e.to_string())
    });
    view! {
        <Title text="Sign in"/>
        <main class="login-page">
            <div class="login-card">
                <h1 class="brand">"Settle"</h1>
                <p class="subtitle">"Sign in to your account"</p>
                <ErrorBanner message=general_error/>
                <ActionForm action=login attr:class="form" attr:novalidate="">
                    <input type="hidden" name="next" prop:value=next/>
                    <TextField name="email" label="Email" input_type="email" autocomplete="username"
                        error=field_error("email") node_ref=email_ref/>
                    <TextField name="password" label="Password" input_type="password" autocomplete="current-password"
                        error=field_error("password") node_ref=password_ref/>
                    <Show when=move || choosing.get()>
                        <p class="help">"This is your first sign-in: choose a password of your own (at least 12 characters) to replace the temporary one."</p>
                        <TextField name="new_password" label="New password" input_type="password" autocomplete="new-password"
                            error=field_error("new_password") node_ref=new_password_ref/>
                    </Show>
                    <button type="submit" class="btn btn-primary btn-block" disabled=move || login.pending().get()>
                        <Show when=move || login.pending().get()>
                            <span class="spinner" aria-hidden="true"></span>
                        </Show>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="login-links"><a href="/forgot-password">"Forgot your password?"</a></p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let accounts = demo.await.unwrap_or_default();
                        (!accounts.is_empty()).then(|| view! {
                            <section class="demo-accounts" aria-labelledby="demo-title">
                                <h2 id="demo-title">"Demo sign-ins"</h2>
                                <table class="table compact">
                                    <thead><tr><th scope="col">"Role"</th><th scope="col">"Email"</th><th scope="col">"Password"</th></tr></thead>
                                    <tbody>
                                        {accounts.into_iter().map(|a| view! {
                                            <tr><td>{a.label}</td><td><code>{a.email}</code></td><td><code>{a.password}</code></td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        })
                    })}
                </Suspense>
            </div>
        </main>
    }
}
