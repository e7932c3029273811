//! TLS to the PostgreSQL catalog, the way libpq does it, with rustls:
//!
//! | `sslmode` | TLS | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `allow`, `prefer` (default) | when the server offers it | no |
//! | `require` | always | only when a root certificate file exists (then as `verify-ca`) |
//! | `verify-ca` | always | chain to a trusted root |
//! | `verify-full` | always | chain, and the host name (or IP) the address connects to |
//!
//! The roots are `sslrootcert` (or `PGSSLROOTCERT`), else `~/.postgresql/root.crt`;
//! `sslrootcert=system` takes the system's store. `verify-ca` and `verify-full` without a root
//! file are refused, as libpq refuses them. Unix sockets never use TLS.
//!
//! tokio-postgres knows only disable/prefer/require and no `sslrootcert`, so [`split`] takes
//! both out of the address before it is parsed.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// A root certificate file larger than this is refused.
const ROOT_FILE_MAX: u64 = 4 * 1024 * 1024;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(s: &str) -> Result<Mode, String> {
        Ok(match s {
            "disable" => Mode::Disable,
            "allow" | "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }

    /// What tokio-postgres is told.
    pub fn wire(self) -> postgres::config::SslMode {
        use postgres::config::SslMode;
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }
}

/// The TLS settings of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: Mode,
    /// `sslrootcert`: a file, or `system`.
    pub root: Option<String>,
}

/// Take `sslmode` and `sslrootcert` out of `address` (URL query or `key=value` pairs), falling
/// back on `PGSSLMODE` and `PGSSLROOTCERT`; return the rest of the address and the settings.
pub fn split(address: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(String, Tls), String> {
    let mut mode = None;
    let mut root = None;
    let mut take = |k: &str, v: String| match k {
        "sslmode" => {
            mode = Some(v);
            true
        }
        "sslrootcert" => {
            root = Some(v);
            true
        }
        _ => false,
    };
    let rest = if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        match address.split_once('?') {
            None => address.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let v = percent_encoding::percent_decode_str(v)
                        .decode_utf8()
                        .map_err(|_| format!("the value of `{k}` is not UTF-8"))?
                        .into_owned();
                    if !take(k, v) {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for (k, raw, v) in pairs(address)? {
            if !take(&k, v) {
                kept.push(raw);
            }
        }
        kept.join(" ")
    };
    let mode = match mode.or_else(|| env("PGSSLMODE")) {
        Some(m) => Mode::parse(&m)?,
        None => Mode::Prefer,
    };
    let root = root.or_else(|| env("PGSSLROOTCERT"));
    Ok((rest, Tls { mode, root }))
}

/// The `key=value` pairs of a libpq keyword/value string: each as (key, its text as written,
/// its value unquoted). Values may be single-quoted, with `\'` and `\\` escapes.
fn pairs(s: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            return Ok(out);
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next().map(|(_, c)| c) != Some('=') {
            return Err(format!("`{key}` has no `=value`"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("the value of `{key}` has no closing quote")),
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => value.push(c),
                        None => return Err(format!("the value of `{key}` ends in `\\`")),
                    },
                    Some((_, c)) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some((_, e)) = chars.next() {
                        value.push(e);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        let end = chars.peek().map_or(s.len(), |(i, _)| *i);
        out.push((key, s[start..end].trim_end().to_owned(), value));
    }
}

/// The connector for `tls`: rustls with the checks its mode asks for. `home` is where
/// `~/.postgresql/root.crt` is looked for.
pub fn connector(tls: &Tls, home: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let default_root = home.map(|h| h.join(".postgresql").join("root.crt"));
    let roots = match (&tls.root, tls.mode) {
        (_, Mode::Disable | Mode::Prefer) => None,
        (Some(r), _) if r == "system" => Some(system_roots()?),
        (Some(r), _) => Some(file_roots(Path::new(r))?),
        (None, Mode::Require) => match default_root.filter(|p| p.exists()) {
            Some(p) => Some(file_roots(&p)?),
            None => None,
        },
        (None, _) => {
            let p = default_root
                .filter(|p| p.exists())
                .ok_or_else(|| {
                    format!(
                        "sslmode={} needs the certificates to trust: give sslrootcert=FILE (or `system`), or put them in ~/.postgresql/root.crt",
                        if tls.mode == Mode::VerifyCa { "verify-ca" } else { "verify-full" }
                    )
                })?;
            Some(file_roots(&p)?)
        }
    };
    let chain = match roots {
        None => None,
        Some(roots) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("the root certificates: {e}"))?,
        ),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match chain {
        Some(full) if tls.mode == Mode::VerifyFull => full,
        chain => Arc::new(Lenient {
            provider: provider.clone(),
            chain,
        }),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn file_roots(path: &Path) -> Result<RootCertStore, String> {
    use std::io::Read;
    let shown = path.display();
    let f = std::fs::File::open(path).map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    let mut pem = Vec::new();
    f.take(ROOT_FILE_MAX + 1)
        .read_to_end(&mut pem)
        .map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    if pem.len() as u64 > ROOT_FILE_MAX {
        return Err(format!(
            "sslrootcert {shown} is larger than {ROOT_FILE_MAX} bytes"
        ));
    }
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("sslrootcert {shown}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("sslrootcert {shown} holds no certificate"));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err("sslrootcert=system: the system has no certificates to trust".into());
    }
    Ok(roots)
}

/// What libpq checks short of `verify-full`: with no roots (`prefer`, `require`), not the
/// certificate at all; with roots (`verify-ca`), the chain but not the name. The handshake's
/// signatures are always checked, with the provider's algorithms (as webpki checks them).
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_both_address_forms() {
        let (rest, tls) = split(
            "postgresql://u@h:5/db?application_name=x&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.crt",
            &none,
        )
        .expect("url");
        assert_eq!(rest, "postgresql://u@h:5/db?application_name=x");
        assert_eq!(tls.mode, Mode::VerifyFull);
        assert_eq!(tls.root.as_deref(), Some("/tmp/ca x.crt"));
        let (rest, tls) = split(
            "host=h  sslrootcert='/tmp/it\\'s.crt' user=u sslmode = verify-ca dbname=d",
            &none,
        )
        .expect("pairs");
        assert_eq!(rest, "host=h user=u dbname=d");
        assert_eq!(tls.mode, Mode::VerifyCa);
        assert_eq!(tls.root.as_deref(), Some("/tmp/it's.crt"));
        let env = |k: &str| (k == "PGSSLMODE").then(|| "require".to_owned());
        assert_eq!(split("host=h", &env).expect("env").1.mode, Mode::Require);
        assert_eq!(
            split("postgresql://h/d?sslmode=disable", &env)
                .expect("the address wins")
                .1
                .mode,
            Mode::Disable
        );
        assert_eq!(
            split("postgresql://h/d", &none).expect("default").1.mode,
            Mode::Prefer
        );
        assert!(split("postgresql://h/d?sslmode=sometimes", &none).is_err());
        assert!(split("host='open", &none).is_err());
    }

    #[test]
    fn verification_without_roots_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        for mode in [Mode::VerifyCa, Mode::VerifyFull] {
            let tls = Tls { mode, root: None };
            assert!(connector(&tls, Some(dir.path())).is_err(), "{mode:?}");
        }
        let empty = dir.path().join("empty.crt");
        std::fs::write(&empty, "").expect("write");
        let tls = Tls {
            mode: Mode::VerifyFull,
            root: Some(empty.display().to_string()),
        };
        assert!(connector(&tls, None).is_err(), "no certificate in the file");
        for mode in [Mode::Prefer, Mode::Require] {
            let tls = Tls { mode, root: None };
            assert!(connector(&tls, Some(dir.path())).is_ok(), "{mode:?}");
        }
    }
}
