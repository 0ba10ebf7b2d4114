//! The console's session: a signed cookie naming the role a token signed in with.
//!
//! The cookie is `role.expires.nonce.mac`, where `mac` is an HMAC-SHA256 over the other parts
//! and over the token signed in with. A cookie verifies while one of its role's configured
//! tokens gives that MAC, so removing a token (the end of a rotation) ends the sessions it
//! opened, and the sessions of the token kept go on. Nothing is kept on the server: any
//! instance sharing the secret and the tokens verifies a session.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::auth::{ApiTokens, same_secret};
use crate::tokens::Tokens;

/// The session cookie's name.
pub const COOKIE: &str = "antaeus_console";

/// How long a session lasts, in seconds.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// The shortest secret accepted from configuration.
pub const MIN_SECRET_LEN: usize = 32;

/// The key sessions and CSRF tokens are signed with. `Debug` never shows it.
#[derive(Clone)]
pub struct ConsoleSecret(Vec<u8>);

impl fmt::Debug for ConsoleSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsoleSecret([redacted])")
    }
}

/// Why a configured secret is refused.
#[derive(Debug, thiserror::Error)]
#[error("the console secret must be at least {MIN_SECRET_LEN} characters")]
pub struct SecretTooShort;

impl ConsoleSecret {
    /// A configured secret, at least [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &str) -> Result<Self, SecretTooShort> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(SecretTooShort);
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    /// A random secret for this process only.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex(&mac.finalize().into_bytes())
    }
}

/// What a signed-in session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Signed in with the read token: sees everything, changes nothing.
    Read,
    /// Signed in with the API token: may retry, void and start runs.
    Act,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Act => "act",
        }
    }

    /// The tokens that sign in as this role now.
    fn tokens(self, tokens: &ApiTokens) -> &Tokens {
        match self {
            Role::Read => &tokens.read,
            Role::Act => &tokens.write,
        }
    }

    /// The role `token` signs in as, if any (the API token wins).
    pub fn of_token(token: &str, tokens: &ApiTokens) -> Option<Role> {
        // Both are compared, whatever the first answers, so timing says nothing.
        let act = tokens.write.accepts(token);
        let read = tokens.read.accepts(token);
        if act {
            Some(Role::Act)
        } else if read {
            Some(Role::Read)
        } else {
            None
        }
    }
}

/// A valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What it may do.
    pub role: Role,
    /// Its random part: the CSRF token is derived from it.
    nonce: String,
}

impl Session {
    /// A new session of the role `token` signs in as, as a cookie value valid until
    /// `now + SESSION_SECONDS`; `None` when `token` is not one of the configured tokens.
    pub fn issue(
        token: &str,
        tokens: &ApiTokens,
        secret: &ConsoleSecret,
        now: i64,
    ) -> Option<String> {
        let role = Role::of_token(token, tokens)?;
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = hex(&nonce);
        let expires = (now + SESSION_SECONDS).to_string();
        let mac = session_mac(secret, role, &expires, &nonce, token);
        Some(format!("{}.{expires}.{nonce}.{mac}", role.as_str()))
    }

    /// The session a cookie value proves, if it is well signed, not expired, and the token it
    /// was signed in with is still one of its role's.
    pub fn verify(
        cookie: &str,
        tokens: &ApiTokens,
        secret: &ConsoleSecret,
        now: i64,
    ) -> Option<Session> {
        let mut parts = cookie.split('.');
        let (role, expires, nonce, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let role = match role {
            "read" => Role::Read,
            "act" => Role::Act,
            _ => return None,
        };
        // Every token of the role is tried, whatever the others answer.
        let signed = role.tokens(tokens).iter().fold(false, |any, token| {
            let expected = session_mac(secret, role, expires, nonce, token);
            any | same_secret(mac.as_bytes(), expected.as_bytes())
        });
        if !signed {
            return None;
        }
        let expires: i64 = expires.parse().ok()?;
        (now < expires).then(|| Session {
            role,
            nonce: nonce.to_owned(),
        })
    }

    /// The CSRF token every form of this session carries.
    pub fn csrf(&self, secret: &ConsoleSecret) -> String {
        secret.mac(&[b"csrf", self.nonce.as_bytes()])
    }

    /// Whether `given` is this session's CSRF token.
    pub fn csrf_matches(&self, given: &str, secret: &ConsoleSecret) -> bool {
        same_secret(given.as_bytes(), self.csrf(secret).as_bytes())
    }
}

/// The MAC of a session's parts and of the token its role has.
fn session_mac(
    secret: &ConsoleSecret,
    role: Role,
    expires: &str,
    nonce: &str,
    token: &str,
) -> String {
    secret.mac(&[
        b"session",
        role.as_str().as_bytes(),
        expires.as_bytes(),
        nonce.as_bytes(),
        token.as_bytes(),
    ])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> ApiTokens {
        ApiTokens {
            write: Tokens::parse("write-token").unwrap(),
            read: Tokens::parse("read-token").unwrap(),
        }
    }

    fn secret() -> ConsoleSecret {
        ConsoleSecret::new(&"s".repeat(32)).unwrap()
    }

    #[test]
    fn a_session_verifies_until_it_expires() {
        let cookie = Session::issue("write-token", &tokens(), &secret(), 1_000).unwrap();
        let session = Session::verify(&cookie, &tokens(), &secret(), 1_001).unwrap();
        assert_eq!(session.role, Role::Act);
        assert!(Session::verify(&cookie, &tokens(), &secret(), 1_000 + SESSION_SECONDS).is_none());
    }

    #[test]
    fn a_tampered_cookie_another_secret_or_a_changed_token_is_refused() {
        let cookie = Session::issue("read-token", &tokens(), &secret(), 0).unwrap();
        let promoted = cookie.replacen("read", "act", 1);
        assert!(Session::verify(&promoted, &tokens(), &secret(), 1).is_none());
        let other = ConsoleSecret::new(&"o".repeat(32)).unwrap();
        assert!(Session::verify(&cookie, &tokens(), &other, 1).is_none());
        let rotated = ApiTokens {
            read: Tokens::parse("new-read-token").unwrap(),
            ..tokens()
        };
        assert!(Session::verify(&cookie, &rotated, &secret(), 1).is_none());
        assert!(Session::issue("nope", &tokens(), &secret(), 0).is_none());
        assert!(Session::verify("garbage", &tokens(), &secret(), 1).is_none());
    }

    #[test]
    fn during_a_rotation_either_token_signs_in_and_removing_one_ends_only_its_sessions() {
        let rotating = ApiTokens {
            write: Tokens::parse("old-write,new-write").unwrap(),
            read: Tokens::parse("read-token").unwrap(),
        };
        let old = Session::issue("old-write", &rotating, &secret(), 0).unwrap();
        let new = Session::issue("new-write", &rotating, &secret(), 0).unwrap();
        for cookie in [&old, &new] {
            let session = Session::verify(cookie, &rotating, &secret(), 1).unwrap();
            assert_eq!(session.role, Role::Act);
        }
        let rotated = ApiTokens {
            write: Tokens::parse("new-write").unwrap(),
            ..rotating
        };
        assert!(Session::verify(&old, &rotated, &secret(), 1).is_none());
        assert!(Session::verify(&new, &rotated, &secret(), 1).is_some());
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let a = Session::verify(
            &Session::issue("write-token", &tokens(), &secret(), 0).unwrap(),
            &tokens(),
            &secret(),
            1,
        )
        .unwrap();
        let b = Session::verify(
            &Session::issue("write-token", &tokens(), &secret(), 0).unwrap(),
            &tokens(),
            &secret(),
            1,
        )
        .unwrap();
        assert!(a.csrf_matches(&a.csrf(&secret()), &secret()));
        assert!(!a.csrf_matches(&b.csrf(&secret()), &secret()));
        assert!(!a.csrf_matches("", &secret()));
    }

    #[test]
    fn tokens_sign_in_as_their_role_and_short_secrets_are_refused() {
        assert_eq!(Role::of_token("write-token", &tokens()), Some(Role::Act));
        assert_eq!(Role::of_token("read-token", &tokens()), Some(Role::Read));
        assert_eq!(Role::of_token("nope", &tokens()), None);
        assert!(ConsoleSecret::new("short").is_err());
        assert!(!format!("{:?}", secret()).contains("sss"));
    }
}
