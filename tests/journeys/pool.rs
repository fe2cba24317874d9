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
