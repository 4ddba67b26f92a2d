use super::*;

#[test]
fn config_is_checked() {
    let mut c = ClientConfig::new("http://127.0.0.1:1");
    assert!(Client::new(c.clone()).is_ok());
    c.max_connections = 4;
    assert!(Client::new(c.clone()).unwrap_err().is_invalid_input());
    c.max_connections = 0;
    assert!(Client::new(c.clone()).unwrap_err().is_invalid_input());
    c.max_connections = 2;
    c.idle_timeout = Duration::ZERO;
    assert!(Client::new(c).unwrap_err().is_invalid_input());
    for bad in [
        "",
        "127.0.0.1",
        "ftp://127.0.0.1",
        "http://127.0.0.1/?x=1",
        "http://u:p@127.0.0.1",
    ] {
        assert!(
            Client::new(ClientConfig::new(bad))
                .unwrap_err()
                .is_invalid_input(),
            "{bad}"
        );
    }
}

#[test]
fn validate_refuses_bad_addresses_with_a_clear_message() {
    for (bad, says) in [
        ("http://127.0.0.1:", "empty port"),
        ("127.0.0.1:", "no scheme"),
        ("http://127.0.0.1:0", "port 0"),
        ("http://127.0.0.1:00", "port 0"),
        ("http://[::1]:", "empty port"),
        ("http://[::1]:0", "port 0"),
        ("http://127.0.0.1:65536", "not a number"),
        ("http://127.0.0.1:x", "not a number"),
        ("ftp://127.0.0.1", "not http or https"),
        ("file:///etc/passwd", "not http or https"),
        ("cam:8080", "no scheme"),
        ("127.0.0.1", "no scheme"),
        ("", "no camera address"),
        ("  ", "no camera address"),
        ("http://", "no host"),
        ("http:///DCIM", "no host"),
        ("http://:80", "no host"),
        ("http://[::1", "unclosed"),
        ("http://127.0.0.1/?x=1", "query"),
        ("http://127.0.0.1#top", "query or fragment"),
        ("http://u:p@127.0.0.1", "user name or password"),
        ("http://:p@127.0.0.1", "user name or password"),
    ] {
        let cfg = ClientConfig::new(bad);
        let e = cfg.validate().expect_err(bad);
        assert!(
            e.is_config() && e.is_invalid_input() && !e.is_retryable(),
            "{bad}: {e}"
        );
        let msg = e.to_string();
        assert!(msg.contains(says), "{bad}: {msg}");
        if !bad.trim().is_empty() {
            assert!(
                msg.contains(&format!("{bad:?}")),
                "names the address: {msg}"
            );
        }
        let e = Client::new(cfg).expect_err(bad);
        assert!(e.is_config(), "Client::new runs validate: {bad}: {e}");
    }
    for good in [
        "http://127.0.0.1",
        "http://127.0.0.1:1",
        "http://127.0.0.1:8080/",
        "HTTP://127.0.0.1:65535",
        "https://[::1]:8443",
        "http://localhost",
    ] {
        ClientConfig::new(good)
            .validate()
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        Client::new(ClientConfig::new(good)).unwrap();
    }
}

#[test]
fn validate_refuses_bad_limits() {
    let ok = ClientConfig::new("http://127.0.0.1");
    type Spoil = fn(&mut ClientConfig);
    let cases: [(&str, Spoil); 9] = [
        ("max_connections", |c| c.max_connections = 0),
        ("max_connections", |c| c.max_connections = 4),
        ("connect_timeout", |c| c.connect_timeout = Duration::ZERO),
        ("idle_timeout", |c| c.idle_timeout = Duration::ZERO),
        ("command_timeout", |c| c.command_timeout = Duration::ZERO),
        ("probe_timeout", |c| c.probe_timeout = Duration::ZERO),
        ("listing_timeout", |c| c.listing_timeout = Duration::ZERO),
        ("max_listing_bytes", |c| c.max_listing_bytes = 0),
        ("max_listing_items", |c| c.max_listing_items = 0),
    ];
    for (name, spoil) in cases {
        let mut c = ok.clone();
        spoil(&mut c);
        let e = c.validate().expect_err(name);
        assert!(e.is_config() && e.to_string().contains(name), "{e}");
        assert!(Client::new(c).unwrap_err().is_config());
    }
}

#[test]
fn urls() {
    let c = Client::new(ClientConfig::new("http://127.0.0.1:8080/")).unwrap();
    assert_eq!(
        Client::url_at(c.address(), "/DCIM/Movie/x.MP4")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/DCIM/Movie/x.MP4"
    );
    assert_eq!(
        Client::url_at(c.address(), &Command::ListAll.target())
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/?custom=1&cmd=3015&par=1"
    );
}
