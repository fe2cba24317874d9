use chom_core::keys::KeyError;
use chom_core::{Chom, Error, KeyView, Result, Secret};

use crate::args::KeyCommand;
use crate::output::{clean, json, table};
use crate::secret_input;

pub async fn run(chom: &Chom, cmd: KeyCommand, as_json: bool) -> Result<i32> {
    match cmd {
        KeyCommand::Generate { name } => show(&chom.keys().generate_key(&name)?, as_json),
        KeyCommand::Import { name, file, passphrase_stdin } => {
            let pem = read_key_file(&file)?;
            let view = if passphrase_stdin {
                chom.keys().import_key(&name, &pem, Some(&secret_input::read(true, "")?))?
            } else {
                match chom.keys().import_key(&name, &pem, None) {
                    Err(Error::Key(KeyError::PassphraseRequired)) => chom.keys().import_key(
                        &name,
                        &pem,
                        Some(&secret_input::read(false, "Passphrase for the key: ")?),
                    )?,
                    other => other?,
                }
            };
            show(&view, as_json)
        }
        KeyCommand::List => {
            let keys = chom.keys().list_keys()?;
            if as_json {
                json(&keys);
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.name.clone(),
                            k.algorithm.clone(),
                            k.bits.to_string(),
                            k.fingerprint.clone(),
                            k.used_by.join(","),
                        ]
                    })
                    .collect();
                table(&["NAME", "TYPE", "BITS", "FINGERPRINT", "USED BY"], &rows);
            }
        }
        KeyCommand::Agent => {
            let keys = chom.keys().agent_keys().await?;
            if as_json {
                json(&keys);
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        let chom_key = k.chom_key.clone().unwrap_or_else(|| "-".into());
                        vec![k.fingerprint.clone(), k.algorithm.clone(), clean(&k.comment).into(), chom_key]
                    })
                    .collect();
                table(&["FINGERPRINT", "TYPE", "COMMENT", "CHOM KEY"], &rows);
            }
        }
        KeyCommand::AddAgent { name, fingerprint } => {
            show(&chom.keys().add_agent_key(&name, &fingerprint).await?, as_json)
        }
        KeyCommand::Show { name } => show(&chom.keys().key(&name)?, as_json),
        KeyCommand::ExportPublic { name } => {
            let k = chom.keys().key(&name)?;
            if as_json {
                json(&k)
            } else {
                println!("{}", k.public_key)
            }
        }
        KeyCommand::Delete { name } => {
            let agent = chom.keys().key(&name)?.agent;
            chom.keys().delete_key(&name)?;
            if as_json {
                json(&serde_json::json!({ "deleted": name }));
            } else if agent {
                println!("deleted key {name} (its private half stays in your ssh-agent)");
            } else {
                println!("deleted key {name} (and its private half from the OS keyring)");
            }
        }
    }
    Ok(0)
}

fn show(k: &KeyView, as_json: bool) {
    if as_json {
        return json(k);
    }
    // The same line `ssh-keygen -lf` prints.
    println!(
        "{} {} {} ({})",
        k.bits,
        k.fingerprint,
        k.public_key.split_whitespace().nth(2).unwrap_or(&k.name),
        kind(&k.algorithm)
    );
    println!("{}", k.public_key);
    if !k.used_by.is_empty() {
        println!("used by: {}", k.used_by.join(", "));
    }
}

fn kind(algorithm: &str) -> &'static str {
    match algorithm {
        a if a.contains("ed25519") => "ED25519",
        a if a.starts_with("ecdsa") => "ECDSA",
        a if a.contains("rsa") => "RSA",
        _ => "UNKNOWN",
    }
}

fn read_key_file(path: &std::path::Path) -> Result<Secret> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Usage(format!("cannot read key file {}: {e}", path.display())))?;
    if meta.len() > 64 * 1024 {
        return Err(Error::Usage(format!("{} is too large to be an SSH private key", path.display())));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::Usage(format!("cannot read key file {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map(Secret::new)
        .map_err(|_| Error::Usage(format!("{} is not a text OpenSSH private key file", path.display())))
}
