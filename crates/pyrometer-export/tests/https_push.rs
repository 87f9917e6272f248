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

/// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA.
fn certificates() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("pyrometer-https-push-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").ok()?;
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").ok()?;
    let ca = key_and_request(&dir, "ca")
        && openssl(&dir, &["x509", "-req", "-in", "ca.csr", "-key", "ca.key", "-out", "ca.pem", "-days", "1"]);
    (ca && signed(&dir, "server") && signed(&dir, "client")).then_some(dir)
}

#[tokio::test]
async fn a_push_over_https_presents_its_client_certificate() {
    let Some(dir) = certificates() else {
        eprintln!("skipped: no openssl command");
        return;
    };
    let server_tls = TlsFiles {
        cert_chain: dir.join("server.pem"),
        private_key: dir.join("server.key"),
        client_ca_files: vec![dir.join("ca.pem")],
        client_auth_required: true,
        ..TlsFiles::default()
    }
    .server_config()
    .unwrap();
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
