//! `chom download` and `chom upload`: one file each way, with a progress
//! bar on a terminal.

use std::path::Path;

use chom_core::{Chom, Result, TransferReport};

use super::control;
use crate::output::{json, web_progress};

pub async fn download(chom: &Chom, server: &str, remote: &str, local: &Path, as_json: bool) -> Result<i32> {
    let r = chom.transfers().download_file(server, remote, local, &control(web_progress(!as_json))).await?;
    done(&r, &format!("{server}:{remote} -> {}", local.display()), as_json);
    Ok(0)
}

pub async fn upload(chom: &Chom, server: &str, local: &Path, remote: &str, as_json: bool) -> Result<i32> {
    let r = chom.transfers().upload_file(server, local, remote, &control(web_progress(!as_json))).await?;
    done(&r, &format!("{} -> {server}:{remote}", local.display()), as_json);
    Ok(0)
}

fn done(r: &TransferReport, what: &str, as_json: bool) {
    if as_json {
        json(r);
        return;
    }
    let rate = r.bytes as f64 / r.seconds.max(0.001) / (1 << 20) as f64;
    println!("{what}: {} bytes in {:.1} s ({rate:.0} MiB/s), sha256 {}", r.bytes, r.seconds, r.sha256);
    if r.resumed_from > 0 || r.attempts > 1 {
        println!("resumed: {} bytes were there already; {} connection(s) used", r.resumed_from, r.attempts);
    }
}
