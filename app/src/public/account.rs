//! Choosing a password from an invitation or a reset link, and asking for a reset link.

use super::use_token;
use crate::components::{loading_page, ErrorBanner, ErrorView, TextField};
use crate::server_fns::people::{account_link, RequestPasswordReset, UseAccountLink};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/forgot-password`: the email address to send a reset link to. The answer is the same
/// whether the address has an account or not.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ask = ServerAction::<RequestPasswordReset>::new();
    let error = move |f: &'static str| {
        Signal::derive(move || {
            ask.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for(f))
        })
    };
    let general = Signal::derive(move || {
        ask.value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.app().field().is_none())
            .map(|e| e.to_string())
    });
    let done = move || ask.value().get().is_some_and(|r| r.is_ok());
    view! {
        <Title text="Reset your password"/>
        <main class="login-page">
            <div class="login-card">
                <h1 class="brand">"Settle"</h1>
                <p class="subtitle">"Reset your password"</p>
                <Show when=done fallback=move || view! {
                    <ErrorBanner message=general/>
                    <ActionForm action=ask attr:class="form" attr:novalidate="">
                        <TextField name="email" label="Email" input_type="email" autocomplete="username" error=error("email")/>
                        <p class="help">"We email a link to choose a new password. It works once, for 1 hour."</p>
                        <button type="submit" class="btn btn-primary btn-block" disabled=move || ask.pending().get()>
                            <Show when=move || ask.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                            "Email me a reset link"
                        </button>
                    </ActionForm>
                }>
                    <div class="banner banner-success" role="status" data-testid="reset-requested">
                        "If this address has a Settle account, a reset link is on its way. Check your inbox (and spam folder); the link works for 1 hour."
                    </div>
                </Show>
                <p class="login-links"><a href="/login">"Back to sign in"</a></p>
            </div>
        </main>
    }
}

/// `/invite/:token`: an invited user chooses their password.
#[component]
pub fn InvitePage() -> impl IntoView {
    view! { <ChoosePassword invitation=true/> }
}

/// `/reset-password/:token`: a user chooses a new password.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    view! { <ChoosePassword invitation=false/> }
}

#[component]
fn ChoosePassword(invitation: bool) -> impl IntoView {
    let token = use_token();
    let account = Resource::new(move || token.get(), move |t| account_link(invitation, t));
    let save = ServerAction::<UseAccountLink>::new();
    let error = move |f: &'static str| {
        Signal::derive(move || {
            save.value()
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for(f))
        })
    };
    let general = Signal::derive(move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.message_for("password").is_none() && e.message_for("confirm").is_none())
            .map(|e| e.to_string())
    });
    let (title, button) = if invitation {
        ("Accept your invitation", "Choose password and sign in")
    } else {
        ("Choose a new password", "Save password and sign in")
    };
    view! {
        <Title text=title/>
        <main class="login-page">
            <div class="login-card">
                <h1 class="brand">"Settle"</h1>
                <p class="subtitle">{title}</p>
                <Suspense fallback=loading_page>
                    {move || Suspend::new(async move {
                        match account.await {
                            Err(e) => {
                                #[cfg(feature = "ssr")]
                                crate::request::set_page_status(http::StatusCode::GONE);
                                view! {
                                    <ErrorView error=e/>
                                    <p class="login-links">
                                        {(!invitation).then(|| view! { <a href="/forgot-password">"Ask for a new reset link"</a>" · " })}
                                        <a href="/login">"Sign in"</a>
                                    </p>
                                }.into_any()
                            }
                            Ok(a) => view! {
                                <p>{format!("{} · {}", a.name, a.email)}</p>
                                <ErrorBanner message=general/>
                                <ActionForm action=save attr:class="form" attr:novalidate="">
                                    <input type="hidden" name="invitation" value=invitation.to_string()/>
                                    <input type="hidden" name="token" prop:value=move || token.get()/>
                                    <input type="email" name="username" autocomplete="username" value=a.email.clone() hidden/>
                                    <TextField name="password" label="New password" input_type="password" autocomplete="new-password" error=error("password")
                                        help=Signal::derive(|| "At least 12 characters.".to_string())/>
                                    <TextField name="confirm" label="Type it again" input_type="password" autocomplete="new-password" error=error("confirm")/>
                                    <button type="submit" class="btn btn-primary btn-block" disabled=move || save.pending().get()>
                                        <Show when=move || save.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                                        {button}
                                    </button>
                                </ActionForm>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}
