use chom_core::jobs::Control;
use chom_core::{Chom, Selection};
use chom_tests::Fleet;

/// The PID of the sshd process serving this connection: the same PID means
/// the same connection.
async fn session_pid(chom: &Chom, server: &str) -> String {
    let sel = Selection { names: vec![server.into()], ..Default::default() };
    let report = chom.fleet().run(&sel, "echo $PPID", &Control::quiet()).await.unwrap();
    let r = &report.results[0];
    assert!(r.ok, "{r:?}");
    r.stdout.trim().to_owned()
}

/// A pooled connection is reused, and one killed on the server side is
/// replaced on the next command without the caller seeing an error.
#[test]
fn killed_pooled_connection_is_replaced() {
    let fleet = Fleet::start(2);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let chom = Chom::open(fleet.chom.data_dir()).unwrap();
        let name = fleet.lab.hosts()[0].name.clone();
        let first = session_pid(&chom, &name).await;
        let again = session_pid(&chom, &name).await;
        assert_eq!(first, again, "the second command should reuse the pooled connection");
        assert_eq!(chom.pool().open_connections().await, 1);

        let killed = fleet.lab.kill_connections(0).unwrap();
        assert!(killed >= 1, "the lab killed no connection");
        let after = session_pid(&chom, &name).await;
        assert_ne!(after, first, "a new connection should serve the command after the kill");
        let reused = session_pid(&chom, &name).await;
        assert_eq!(after, reused);

        // The probe's long-lived shell is replaced the same way.
        let sel = Selection { names: vec![name.clone()], ..Default::default() };
        let first = chom.fleet().probe(&sel, &Control::quiet()).await.unwrap();
        assert_eq!(first.succeeded, 1, "{first:?}");
        assert!(fleet.lab.kill_connections(0).unwrap() >= 1);
        let again = chom.fleet().probe(&sel, &Control::quiet()).await.unwrap();
        assert_eq!(again.succeeded, 1, "{again:?}");
    });
}

/// A CLI process (keep_fleet_connections off) closes each server's
/// connection when its part of a fleet run or probe is done: 1,000
/// servers never hold 1,000 idle connections and their memory at once.
/// The app's pool (the default) keeps them for the next, warm, probe.
#[test]
fn a_one_shot_pool_closes_each_connection_when_its_server_is_done() {
    let fleet = Fleet::start(3);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let all = Selection { all: true, ..Default::default() };
        let kept = Chom::open(fleet.chom.data_dir()).unwrap();
        assert_eq!(kept.fleet().run(&all, "true", &Control::quiet()).await.unwrap().succeeded, 3);
        assert_eq!(kept.pool().open_connections().await, 3, "the app's pool keeps them");

        let ssh = chom_core::ssh::SshConfig { keep_fleet_connections: false, ..Default::default() };
        let keyring = std::sync::Arc::new(chom_core::secrets::OsKeyring::new());
        let one_shot = Chom::open_with(fleet.chom.data_dir(), keyring, ssh).unwrap();
        let run = one_shot.fleet().run(&all, "echo done", &Control::quiet()).await.unwrap();
        assert_eq!(run.succeeded, 3, "{run:?}");
        assert!(run.results.iter().all(|r| r.stdout == "done\n"), "{run:?}");
        assert_eq!(one_shot.pool().open_connections().await, 0);
        let probe = one_shot.fleet().probe(&all, &Control::quiet()).await.unwrap();
        assert_eq!(probe.succeeded, 3, "{probe:?}");
        assert_eq!(one_shot.pool().open_connections().await, 0);
    });
}
