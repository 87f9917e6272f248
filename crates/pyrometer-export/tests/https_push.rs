//! Pushes over HTTPS with a client certificate, to pyrometer's own HTTPS server requiring one:
//! the server answers a push with 405 (it only serves scrapes), which proves the handshake and
//! the exchange. Certificates come from the `openssl` command; without it the test is skipped.
#![cfg(all(feature = "tls", feature = "pushgateway"))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use pyrometer_core::Registry;
use pyrometer_export::http::{ServeOptions, TlsFiles, client_config, serve_with};
use pyrometer_export::pushgateway::{PushError, Pushgateway};

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl").args(args).current_dir(dir).output().is_ok_and(|o| o.status.success())
}

/// A new EC key in `<name>.key`, and a request for a certificate for it in `<name>.csr`.
fn key_and_request(dir: &Path, name: &str) -> bool {
    let (key, csr, subject) = (format!("{name}.key"), format!("{name}.csr"), format!("/CN={name}"));
    let args = ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", &key];
    openssl(dir, &[&args[..], &["-out", &csr, "-subj", &subject]].concat())
}

/// `<name>.pem`, signed by the CA with the extensions of `<name>.ext`.
fn signed(dir: &Path, name: &str) -> bool {
    let (csr, pem, ext) = (format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
    let ca = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"];
    key_and_request(dir, name)
        && openssl(dir, &[&["x509", "-req", "-in", &csr, "-out", &pem, "-extfile", &ext][..], &ca].concat())
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA, in
/// a directory of the test's own (`test` names it: tests run at once).
fn certificates(test: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("pyrometer-https-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").ok()?;
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").ok()?;
    let ca = key_and_request(&dir, "ca")
        && openssl(&dir, &["x509", "-req", "-in", "ca.csr", "-key", "ca.key", "-out", "ca.pem", "-days", "1"]);
    (ca && signed(&dir, "server") && signed(&dir, "client")).then_some(dir)
}

/// The server's TLS configuration: its certificate, and a client's required, signed by the CA.
fn server_requiring_client_certificates(dir: &Path) -> Arc<rustls::ServerConfig> {
    TlsFiles {
        cert_chain: dir.join("server.pem"),
        private_key: dir.join("server.key"),
        client_ca_files: vec![dir.join("ca.pem")],
        client_auth_required: true,
        ..TlsFiles::default()
    }
    .server_config()
    .unwrap()
}

#[tokio::test]
async fn a_push_over_https_presents_its_client_certificate() {
    let Some(dir) = certificates("push") else {
        eprintln!("skipped: no openssl command");
        return;
    };
    let server_tls = server_requiring_client_certificates(&dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = ServeOptions { tls: Some(server_tls), ..ServeOptions::default() };
    tokio::spawn(serve_with(listener, Arc::new(Registry::new()), options, std::future::pending()));

    let url = format!("https://127.0.0.1:{port}");
    let with_identity =
        client_config(&dir.join("ca.pem"), Some((&dir.join("client.pem"), &dir.join("client.key")))).unwrap();
    let pushed = Pushgateway::new(&url).unwrap().tls(with_identity).push("job", &[], &Registry::new()).await;
    assert!(matches!(pushed, Err(PushError::Status { status: 405, .. })), "{pushed:?}");

    let anonymous = client_config(&dir.join("ca.pem"), None).unwrap();
    let refused = Pushgateway::new(&url).unwrap().tls(anonymous).push("job", &[], &Registry::new()).await;
    assert!(matches!(refused, Err(PushError::Io(_) | PushError::Http(_))), "{refused:?}");

    let no_tls = Pushgateway::new(&url).unwrap().push("job", &[], &Registry::new()).await;
    assert!(matches!(no_tls, Err(PushError::Url { .. })), "{no_tls:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Remote write over HTTPS with a client certificate, to the same server: its 405 (a refusal,
/// not retried) proves the handshake and the exchange; without the certificate, no handshake.
#[cfg(feature = "remote-write")]
#[test]
fn a_remote_write_over_https_presents_its_client_certificate() {
    use std::time::Duration;

    use pyrometer_export::remote_write::{RemoteWriteOptions, RemoteWriter};

    let Some(dir) = certificates("remote-write") else {
        eprintln!("skipped: no openssl command");
        return;
    };
    let server_tls = server_requiring_client_certificates(&dir);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://127.0.0.1:{}/api/v1/write", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let options = ServeOptions { tls: Some(server_tls), ..ServeOptions::default() };
            let stop = tokio::time::sleep(Duration::from_secs(30));
            let _ = serve_with(listener, Arc::new(Registry::new()), options, stop).await;
        });
    });
    let registry = Registry::new();
    let family = pyrometer_core::Family::<pyrometer_core::Gauge>::new(pyrometer_core::Metadata::new("g", "G."));
    let family = family.unwrap();
    family.without_labels().unwrap().set(1.0);
    registry.register(family).unwrap();
    let options = |identity: bool| RemoteWriteOptions {
        shards: 1,
        stale_on_close: false,
        max_backoff: Duration::from_millis(50),
        tls: Some(
            client_config(
                &dir.join("ca.pem"),
                identity
                    .then(|| (dir.join("client.pem"), dir.join("client.key")))
                    .as_ref()
                    .map(|(c, k)| (c.as_path(), k.as_path())),
            )
            .unwrap(),
        ),
        ..RemoteWriteOptions::default()
    };

    let writer = RemoteWriter::new(&url, registry.clone(), options(true)).unwrap();
    assert!(writer.flush(Duration::from_secs(10)));
    let stats = writer.stats();
    assert_eq!((stats.samples_failed, stats.samples_retried), (1, 0), "{stats:?}");
    assert!(stats.last_error.as_deref().unwrap_or_default().contains("405"), "{stats:?}");

    let anonymous = RemoteWriter::new(&url, registry, options(false)).unwrap();
    assert!(!anonymous.flush(Duration::from_millis(500)), "no handshake without a certificate");
    assert!(anonymous.stats().samples_retried > 0);
    std::fs::remove_dir_all(dir).unwrap();
}
