//! The facade with an in-memory secret store (unit tests only); the real
//! keyring and real servers are in the journeys under tests/.

use std::sync::Arc;

use super::*;
use crate::db::{PinnedHostKey, ServerFilter};
use crate::secrets::MemoryStore;
use crate::validate::Tag;
use crate::{Error, ErrorCode};

fn open() -> (tempfile::TempDir, Chom, Arc<MemoryStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::default());
    let chom = Chom::open_with(dir.path(), store.clone(), SshConfig::default()).unwrap();
    (dir, chom, store)
}

fn server(name: &str, key: &str, tags: &[&str]) -> ServerInput {
    ServerInput {
        name: name.into(),
        host: "198.51.100.7".into(),
        key: Some(key.into()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn inventory_add_edit_filter_remove() {
    let (_d, chom, _) = open();
    chom.keys().generate_key("k").unwrap();
    chom.servers().add_server(&server("web1", "k", &["web", "prod"])).unwrap();
    chom.servers().add_server(&server("db1", "k", &["db"])).unwrap();
    let err = chom.servers().add_server(&server("web1", "k", &[])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyExists);
    let err = chom.servers().add_server(&server("web2", "nokey", &[])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);

    let web = ServerFilter { tag: Some(Tag::parse("web").unwrap()), ..Default::default() };
    let names: Vec<String> = chom.servers().list_servers(&web).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["web1"]);

    let view = chom
        .servers()
        .edit_server(
            "web1",
            &ServerEdit {
                rename: Some("web-1".into()),
                add_tags: vec!["edge".into()],
                remove_tags: vec!["prod".into()],
                group: Some("acme".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((view.name.as_str(), view.group.as_deref()), ("web-1", Some("acme")));
    assert_eq!(view.tags, ["edge", "web"]);
    assert_eq!(
        chom.servers()
            .edit_server("db1", &ServerEdit { rename: Some("web-1".into()), ..Default::default() })
            .await
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyExists
    );

    chom.servers().remove_server("db1").unwrap();
    assert_eq!(chom.servers().list_servers(&ServerFilter::default()).unwrap().len(), 1);
    let actions: Vec<String> =
        chom.jobs().audit_log(&Default::default()).unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["server.remove", "server.edit", "server.add", "server.add", "key.generate"]);
}

#[tokio::test]
async fn a_new_endpoint_drops_the_pinned_host_key() {
    let (_d, chom, _) = open();
    chom.keys().generate_key("k").unwrap();
    chom.servers().add_server(&server("web1", "k", &[])).unwrap();
    let id = chom.ctx.server_record("web1").unwrap().id;
    let pinned = PinnedHostKey {
        algorithm: "ssh-ed25519".into(),
        fingerprint: "SHA256:x".into(),
        public_key: "ssh-ed25519 AAAA".into(),
        first_seen: chrono::Utc::now(),
    };
    chom.ctx.db.pin_host_key(id, &pinned).unwrap();
    chom.servers().edit_server("web1", &ServerEdit { notes: Some("n".into()), ..Default::default() }).await.unwrap();
    assert!(chom.ctx.db.pinned_host_key(id).unwrap().is_some(), "notes do not change the machine");
    chom.servers().edit_server("web1", &ServerEdit { port: Some("2222".into()), ..Default::default() }).await.unwrap();
    assert!(chom.ctx.db.pinned_host_key(id).unwrap().is_none(), "another port may be another machine");
}

#[tokio::test]
async fn keys_in_use_are_kept_and_secrets_follow_their_rows() {
    let (_d, chom, store) = open();
    let k = chom.keys().generate_key("k").unwrap();
    let account = chom.ctx.db.key_by_name(&"k".parse().unwrap()).unwrap().unwrap().keyring_account;
    assert!(store.get(&account).unwrap().unwrap().expose().contains("OPENSSH PRIVATE KEY"));
    assert!(!k.public_key.contains("PRIVATE"));

    assert!(matches!(chom.keys().generate_key("k"), Err(Error::AlreadyExists { .. })));
    chom.servers().add_server(&server("web1", "k", &[])).unwrap();
    let err = chom.keys().delete_key("k").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InUse);
    assert!(err.to_string().contains("web1"), "{err}");
    assert!(store.get(&account).unwrap().is_some(), "a refused delete keeps the secret");

    chom.servers().remove_server("web1").unwrap();
    chom.keys().delete_key("k").unwrap();
    assert!(store.get(&account).unwrap().is_none());
    assert!(chom.keys().list_keys().unwrap().is_empty());
}

#[tokio::test]
async fn selections_resolve_before_anything_runs() {
    let (_d, chom, _) = open();
    chom.keys().generate_key("k").unwrap();
    chom.servers().add_server(&server("a", "k", &["web"])).unwrap();
    chom.servers().add_server(&server("b", "k", &[])).unwrap();
    assert_eq!(chom.fleet().resolve(&Selection::default()).unwrap_err().code(), ErrorCode::InvalidInput);
    let err =
        chom.fleet().resolve(&Selection { names: vec!["a".into(), "zz".into()], ..Default::default() }).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    let both = chom
        .fleet()
        .resolve(&Selection { names: vec!["a".into()], tag: Some("web".into()), ..Default::default() })
        .unwrap();
    assert_eq!(both.len(), 1, "a server named twice runs once");
    assert_eq!(chom.fleet().resolve(&Selection { all: true, ..Default::default() }).unwrap().len(), 2);
    assert!(chom.jobs().list(10).unwrap().is_empty(), "resolving is not a job");
}
