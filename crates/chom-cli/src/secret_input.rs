//! Reading a passphrase or password: from stdin when asked (scripts), else
//! a hidden prompt on the terminal. The buffers are wiped after use.

use std::io::{IsTerminal, Read};

use chom_core::{Error, Result, Secret};
use zeroize::Zeroize;

pub fn read(from_stdin: bool, prompt: &str) -> Result<Secret> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Usage(format!("cannot read the secret from stdin: {e}")))?;
        let line = s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&s);
        let secret = Secret::new(line);
        s.zeroize();
        return Ok(secret);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "there is no terminal to ask for the secret: send it on stdin with --passphrase-stdin / --password-stdin"
                .into(),
        ));
    }
    let mut p = rpassword::prompt_password(prompt).map_err(|e| Error::Usage(format!("cannot read the secret: {e}")))?;
    let secret = Secret::new(p.as_str());
    p.zeroize();
    Ok(secret)
}
