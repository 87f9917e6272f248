//! The answer to one scrape request, independent of any server.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::Full;
use hyper::header::{ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use pyrometer_expo::{name_filter, negotiate};

use super::source::Source;

const ALLOWED: &str = "OPTIONS,GET,HEAD";

/// Answers a request for metrics, as `prometheus_client`'s exposition does: any path but
/// `/favicon.ico` serves the source's metrics, in the format the Accept header asks for, restricted to
/// the `name[]` query parameters when there are any, gzipped when the client accepts gzip and
/// `gzip` is on. `HEAD` gets the headers of a `GET`.
pub fn respond<B>(source: &(impl Source + ?Sized), request: &Request<B>, gzip: bool) -> Response<Full<Bytes>> {
    let method = request.method();
    if method == Method::OPTIONS {
        return with_allow(plain(StatusCode::OK, Bytes::new()));
    }
    if method != Method::GET && method != Method::HEAD {
        let body = format!("# HTTP 405 Method Not Allowed: {method}; use OPTIONS, GET or HEAD\n");
        return with_allow(plain(StatusCode::METHOD_NOT_ALLOWED, body.into()));
    }
    if request.uri().path() == "/favicon.ico" {
        return plain(StatusCode::OK, Bytes::new());
    }
    let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = negotiate(accept);
    let names = request.uri().query().and_then(name_filter);
    let collected = source.collect(names.as_ref());
    // A failing collector fails the scrape: a partial answer would read as series vanishing.
    let families = match collected {
        Ok(families) => families,
        Err(err) => return plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n").into()),
    };
    match format.encode(&families) {
        Ok(body) => {
            let gzipped = gzip && accepts_gzip(request.headers().get(ACCEPT_ENCODING));
            let body = match (method == Method::HEAD, gzipped) {
                (true, _) => Bytes::new(),
                (false, true) => Bytes::from(gzipped_body(&body)),
                (false, false) => Bytes::from(body),
            };
            let mut response = Response::new(Full::new(body));
            if let Ok(value) = HeaderValue::from_str(format.content_type()) {
                response.headers_mut().insert(CONTENT_TYPE, value);
            }
            if gzipped {
                response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Err(err) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n").into()),
    }
}

/// Whether an `Accept-Encoding` header lists gzip, by `gzip_accepted`'s rule: any listed
/// coding named gzip, whatever its q-value.
fn accepts_gzip(header: Option<&HeaderValue>) -> bool {
    let Some(header) = header.and_then(|h| h.to_str().ok()) else { return false };
    header.split(',').any(|coding| coding.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("gzip"))
}

/// The body gzipped at the default level.
fn gzipped_body(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

fn plain(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}

/// Adds the `Allow` header that OPTIONS and 405 answers carry.
fn with_allow(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response.headers_mut().insert(ALLOW, HeaderValue::from_static(ALLOWED));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use pyrometer_core::{Counter, Family, Metadata, Registry};

    fn registry() -> Registry {
        let r = Registry::new();
        r.set_created_enabled(false);
        let a = Family::<Counter>::new(Metadata::new("a", "A.")).unwrap();
        r.register(a.clone()).unwrap();
        a.without_labels().unwrap().inc();
        r.register(Family::<Counter>::new(Metadata::new("b", "B.")).unwrap()).unwrap();
        r
    }

    async fn body(response: Response<Full<Bytes>>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn get(uri: &str, accept: Option<&str>) -> Request<()> {
        let mut builder = Request::get(uri);
        if let Some(a) = accept {
            builder = builder.header(ACCEPT, a);
        }
        builder.body(()).unwrap()
    }

    #[tokio::test]
    async fn get_serves_text_by_default() {
        let response = respond(&registry(), &get("/metrics", None), true);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/plain; version=0.0.4; charset=utf-8");
        let text = body(response).await;
        assert!(text.contains("a_total 1.0\n") && text.contains("b_total 0.0\n"));
    }

    #[tokio::test]
    async fn openmetrics_is_served_when_asked_for() {
        let response = respond(&registry(), &get("/", Some("application/openmetrics-text")), true);
        assert_eq!(response.headers()[CONTENT_TYPE], pyrometer_expo::CONTENT_TYPE_OPENMETRICS);
        assert!(body(response).await.ends_with("# EOF\n"));
    }

    #[tokio::test]
    async fn name_filter_restricts_the_output() {
        let text = body(respond(&registry(), &get("/metrics?name[]=b_total", None), true)).await;
        assert!(text.contains("b_total") && !text.contains("a_total"));
    }

    #[tokio::test]
    async fn other_methods_are_refused_with_allow() {
        let request = Request::post("/metrics").body(()).unwrap();
        let response = respond(&registry(), &request, true);
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], ALLOWED);
    }

    #[tokio::test]
    async fn gzip_is_used_when_accepted_and_allowed() {
        use std::io::Read;
        let request = Request::get("/").header(ACCEPT_ENCODING, "br;q=1.0, GZip;q=0.5").body(()).unwrap();
        let response = respond(&registry(), &request, true);
        assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
        let compressed = response.into_body().collect().await.unwrap().to_bytes();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut text).unwrap();
        assert!(text.contains("a_total 1.0\n"));

        let response = respond(&registry(), &request, false);
        assert!(!response.headers().contains_key(CONTENT_ENCODING));
        let request = Request::get("/").header(ACCEPT_ENCODING, "deflate, gzipx").body(()).unwrap();
        assert!(!respond(&registry(), &request, true).headers().contains_key(CONTENT_ENCODING));
    }

    #[tokio::test]
    async fn head_has_headers_and_no_body() {
        let request = Request::head("/metrics").body(()).unwrap();
        let response = respond(&registry(), &request, true);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key(CONTENT_TYPE));
        assert!(body(response).await.is_empty());
    }
}
