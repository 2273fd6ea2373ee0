//! E-mail over SMTP (lettre, rustls with ring).

use std::fmt;
use std::sync::Once;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::error::{SendError, chain};
use crate::qr::qr_png;
use crate::render::{QR_CONTENT_ID, Rendered};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain text. Only for a relay on the same host or a test server.
    None,
    /// Plain connection upgraded with STARTTLS (required, usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

/// Where and how to send e-mail. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailConfig {
    /// SMTP server host name (also the name its certificate must carry).
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// Connection security.
    pub security: SmtpSecurity,
    /// SMTP AUTH user name; authentication is used when this and `password` are set.
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP AUTH password.
    #[serde(default)]
    pub password: Option<String>,
    /// Sender, e.g. `"Cubby <parcels@example.org>"`.
    pub from: String,
    /// Time allowed for one whole delivery, from connecting to QUIT (also
    /// passed to lettre as its connect timeout). A server that accepts the
    /// connection and then stays silent fails after this, retryably.
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// Name sent in EHLO; defaults to the domain of `from`.
    #[serde(default)]
    pub helo_name: Option<String>,
    /// Extra trusted root certificate (PEM), for a relay with a private CA.
    /// The Mozilla roots are always trusted.
    #[serde(default)]
    pub extra_root_pem: Option<String>,
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("helo_name", &self.helo_name)
            .field("extra_root_pem", &self.extra_root_pem.is_some())
            .finish()
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Installs rustls' ring crypto provider as the process default, once. If
/// another part of the process installed one first, that one stays.
pub fn install_ring_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only means a provider is already installed: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Sends rendered notices as multipart e-mail over SMTP.
///
/// Each message is `multipart/alternative` (text, HTML); with a QR payload the
/// HTML part becomes `multipart/related` with the QR as an inline
/// `image/png` whose Content-ID is [`QR_CONTENT_ID`].
#[derive(Clone)]
pub struct EmailTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl fmt::Debug for EmailTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailTransport")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailTransport {
    /// Builds the transport. Fails (permanently) on a malformed `from`
    /// address or bad TLS settings. Connects only when sending.
    pub fn new(config: EmailConfig) -> Result<EmailTransport, SendError> {
        install_ring_provider();
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| SendError::permanent(format!("invalid from address: {e}")))?;
        let helo = config
            .helo_name
            .clone()
            .unwrap_or_else(|| from.email.domain().to_owned());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain(helo));
        let tls_params = || -> Result<TlsParameters, SendError> {
            let mut b = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.extra_root_pem {
                let cert = Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| SendError::permanent(format!("invalid root certificate: {e}")))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| SendError::permanent(format!("TLS setup: {}", chain(&e))))
        };
        builder = match config.security {
            SmtpSecurity::None => builder.tls(Tls::None),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_params()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_params()?)),
        };
        if let (Some(user), Some(pass)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(EmailTransport {
            transport: builder.build(),
            from,
            timeout: config.timeout,
        })
    }

    /// Sends `rendered` to `to`. With `qr`, the QR code of that payload is
    /// embedded as an inline PNG referenced by the HTML as `cid:`.
    pub async fn send(
        &self,
        to: &str,
        rendered: &Rendered,
        qr: Option<&str>,
    ) -> Result<(), SendError> {
        let message = self.build_message(to, rendered, qr)?;
        // lettre's own timeout does not cover every read (a silent server
        // would hang the caller), so the whole exchange has a deadline.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(result) => result.map(|_| ()).map_err(|e| classify(&e)),
            Err(_) => Err(SendError::retryable(format!(
                "SMTP exchange took longer than {:?}",
                self.timeout
            ))),
        }
    }

    /// The message [`send`](Self::send) would send, for inspection.
    pub fn build_message(
        &self,
        to: &str,
        rendered: &Rendered,
        qr: Option<&str>,
    ) -> Result<Message, SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::permanent(format!("invalid recipient address: {e}")))?;
        let text = SinglePart::plain(rendered.text.clone());
        let html = SinglePart::html(rendered.html.clone());
        let body = match qr {
            None => MultiPart::alternative().singlepart(text).singlepart(html),
            Some(payload) => {
                let png = qr_png(payload)
                    .ok_or_else(|| SendError::permanent("QR payload too long for a QR code"))?;
                let image = Attachment::new_inline_with_name(
                    QR_CONTENT_ID.to_owned(),
                    "pickup-qr.png".to_owned(),
                )
                .body(
                    png,
                    ContentType::parse("image/png")
                        .map_err(|e| SendError::permanent(format!("content type: {e}")))?,
                );
                MultiPart::alternative()
                    .singlepart(text)
                    .multipart(MultiPart::related().singlepart(html).singlepart(image))
            }
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .multipart(body)
            .map_err(|e| SendError::permanent(format!("building message: {e}")))
    }
}

/// SMTP 5xx and client-side problems are permanent; everything else (4xx,
/// refused connections, timeouts, TLS handshakes, dropped links) may pass.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let message = chain(e);
    if e.is_permanent() || e.is_client() {
        SendError::permanent(message)
    } else {
        SendError::retryable(message)
    }
}
