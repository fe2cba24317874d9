//! The keywords OpenSSH's client knows (readconf.c `keywords[]`, up to
//! 10.x, plus the GSSAPI key-exchange keywords Debian and Fedora patch in),
//! so a config written for a newer ssh is "ignored" rather than "unknown".

/// What CHOM does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Host,
    Match,
    Include,
    HostName,
    Port,
    User,
    IdentityFile,
    IdentitiesOnly,
    IdentityAgent,
    ProxyJump,
    ProxyCommand,
    /// Ignored, but kept: `%k` expands to it.
    HostKeyAlias,
    IgnoreUnknown,
    /// Ignored, but it makes OpenSSH read the config a second time.
    CanonicalizeHostname,
    /// A real option CHOM does not carry.
    Other,
    /// OpenSSH ignores it too (obsolete).
    Deprecated,
    /// OpenSSH no longer implements it and says so.
    Unsupported,
}

/// `(lowercase, as documented, role)`.
const KEYWORDS: &[(&str, &str, Role)] = {
    use Role::*;
    &[
        ("protocol", "Protocol", Deprecated),
        ("cipher", "Cipher", Deprecated),
        ("fallbacktorsh", "FallBackToRsh", Deprecated),
        ("globalknownhostsfile2", "GlobalKnownHostsFile2", Deprecated),
        ("rhostsauthentication", "RhostsAuthentication", Deprecated),
        ("userknownhostsfile2", "UserKnownHostsFile2", Deprecated),
        ("useroaming", "UseRoaming", Deprecated),
        ("usersh", "UseRsh", Deprecated),
        ("useprivilegedport", "UsePrivilegedPort", Deprecated),
        ("afstokenpassing", "AFSTokenPassing", Unsupported),
        ("kerberosauthentication", "KerberosAuthentication", Unsupported),
        ("kerberostgtpassing", "KerberosTGTPassing", Unsupported),
        ("rsaauthentication", "RSAAuthentication", Unsupported),
        ("rhostsrsaauthentication", "RhostsRSAAuthentication", Unsupported),
        ("compressionlevel", "CompressionLevel", Unsupported),
        ("gssapiauthentication", "GSSAPIAuthentication", Other),
        ("gssapidelegatecredentials", "GSSAPIDelegateCredentials", Other),
        ("gssapikeyexchange", "GSSAPIKeyExchange", Other),
        ("gssapiclientidentity", "GSSAPIClientIdentity", Other),
        ("gssapiserveridentity", "GSSAPIServerIdentity", Other),
        ("gssapirenewalforcesrekey", "GSSAPIRenewalForcesRekey", Other),
        ("gssapitrustdns", "GSSAPITrustDns", Other),
        ("gssapikexalgorithms", "GSSAPIKexAlgorithms", Other),
        ("pkcs11provider", "PKCS11Provider", Other),
        ("smartcarddevice", "SmartcardDevice", Other),
        ("forwardagent", "ForwardAgent", Other),
        ("forwardx11", "ForwardX11", Other),
        ("forwardx11trusted", "ForwardX11Trusted", Other),
        ("forwardx11timeout", "ForwardX11Timeout", Other),
        ("exitonforwardfailure", "ExitOnForwardFailure", Other),
        ("xauthlocation", "XAuthLocation", Other),
        ("gatewayports", "GatewayPorts", Other),
        ("passwordauthentication", "PasswordAuthentication", Other),
        ("kbdinteractiveauthentication", "KbdInteractiveAuthentication", Other),
        ("kbdinteractivedevices", "KbdInteractiveDevices", Other),
        ("challengeresponseauthentication", "ChallengeResponseAuthentication", Other),
        ("skeyauthentication", "SkeyAuthentication", Other),
        ("tisauthentication", "TisAuthentication", Other),
        ("pubkeyauthentication", "PubkeyAuthentication", Other),
        ("dsaauthentication", "DSAAuthentication", Other),
        ("hostbasedauthentication", "HostbasedAuthentication", Other),
        ("identityfile", "IdentityFile", IdentityFile),
        ("identityfile2", "IdentityFile2", IdentityFile),
        ("identitiesonly", "IdentitiesOnly", IdentitiesOnly),
        ("certificatefile", "CertificateFile", Other),
        ("addkeystoagent", "AddKeysToAgent", Other),
        ("identityagent", "IdentityAgent", IdentityAgent),
        ("hostname", "HostName", HostName),
        ("hostkeyalias", "HostKeyAlias", HostKeyAlias),
        ("proxycommand", "ProxyCommand", ProxyCommand),
        ("port", "Port", Port),
        ("ciphers", "Ciphers", Other),
        ("macs", "MACs", Other),
        ("remoteforward", "RemoteForward", Other),
        ("localforward", "LocalForward", Other),
        ("permitremoteopen", "PermitRemoteOpen", Other),
        ("user", "User", User),
        ("host", "Host", Host),
        ("match", "Match", Match),
        ("tag", "Tag", Other),
        ("escapechar", "EscapeChar", Other),
        ("globalknownhostsfile", "GlobalKnownHostsFile", Other),
        ("userknownhostsfile", "UserKnownHostsFile", Other),
        ("connectionattempts", "ConnectionAttempts", Other),
        ("batchmode", "BatchMode", Other),
        ("checkhostip", "CheckHostIP", Other),
        ("stricthostkeychecking", "StrictHostKeyChecking", Other),
        ("compression", "Compression", Other),
        ("tcpkeepalive", "TCPKeepAlive", Other),
        ("keepalive", "KeepAlive", Other),
        ("numberofpasswordprompts", "NumberOfPasswordPrompts", Other),
        ("syslogfacility", "SyslogFacility", Other),
        ("loglevel", "LogLevel", Other),
        ("logverbose", "LogVerbose", Other),
        ("dynamicforward", "DynamicForward", Other),
        ("preferredauthentications", "PreferredAuthentications", Other),
        ("hostkeyalgorithms", "HostKeyAlgorithms", Other),
        ("casignaturealgorithms", "CASignatureAlgorithms", Other),
        ("bindaddress", "BindAddress", Other),
        ("bindinterface", "BindInterface", Other),
        ("clearallforwardings", "ClearAllForwardings", Other),
        ("enablesshkeysign", "EnableSSHKeysign", Other),
        ("verifyhostkeydns", "VerifyHostKeyDNS", Other),
        ("nohostauthenticationforlocalhost", "NoHostAuthenticationForLocalhost", Other),
        ("rekeylimit", "RekeyLimit", Other),
        ("connecttimeout", "ConnectTimeout", Other),
        ("addressfamily", "AddressFamily", Other),
        ("serveraliveinterval", "ServerAliveInterval", Other),
        ("serveralivecountmax", "ServerAliveCountMax", Other),
        ("sendenv", "SendEnv", Other),
        ("setenv", "SetEnv", Other),
        ("controlpath", "ControlPath", Other),
        ("controlmaster", "ControlMaster", Other),
        ("controlpersist", "ControlPersist", Other),
        ("hashknownhosts", "HashKnownHosts", Other),
        ("include", "Include", Include),
        ("tunnel", "Tunnel", Other),
        ("tunneldevice", "TunnelDevice", Other),
        ("localcommand", "LocalCommand", Other),
        ("permitlocalcommand", "PermitLocalCommand", Other),
        ("remotecommand", "RemoteCommand", Other),
        ("visualhostkey", "VisualHostKey", Other),
        ("kexalgorithms", "KexAlgorithms", Other),
        ("ipqos", "IPQoS", Other),
        ("requesttty", "RequestTTY", Other),
        ("sessiontype", "SessionType", Other),
        ("stdinnull", "StdinNull", Other),
        ("forkafterauthentication", "ForkAfterAuthentication", Other),
        ("proxyusefdpass", "ProxyUseFdpass", Other),
        ("canonicaldomains", "CanonicalDomains", Other),
        ("canonicalizefallbacklocal", "CanonicalizeFallbackLocal", Other),
        ("canonicalizehostname", "CanonicalizeHostname", CanonicalizeHostname),
        ("canonicalizemaxdots", "CanonicalizeMaxDots", Other),
        ("canonicalizepermittedcnames", "CanonicalizePermittedCNAMEs", Other),
        ("streamlocalbindmask", "StreamLocalBindMask", Other),
        ("streamlocalbindunlink", "StreamLocalBindUnlink", Other),
        ("revokedhostkeys", "RevokedHostKeys", Other),
        ("fingerprinthash", "FingerprintHash", Other),
        ("updatehostkeys", "UpdateHostKeys", Other),
        ("hostbasedacceptedalgorithms", "HostbasedAcceptedAlgorithms", Other),
        ("hostbasedkeytypes", "HostbasedKeyTypes", Other),
        ("pubkeyacceptedalgorithms", "PubkeyAcceptedAlgorithms", Other),
        ("pubkeyacceptedkeytypes", "PubkeyAcceptedKeyTypes", Other),
        ("ignoreunknown", "IgnoreUnknown", IgnoreUnknown),
        ("proxyjump", "ProxyJump", ProxyJump),
        ("securitykeyprovider", "SecurityKeyProvider", Other),
        ("knownhostscommand", "KnownHostsCommand", Other),
        ("requiredrsasize", "RequiredRSASize", Other),
        ("enableescapecommandline", "EnableEscapeCommandline", Other),
        ("obscurekeystroketiming", "ObscureKeystrokeTiming", Other),
        ("channeltimeout", "ChannelTimeout", Other),
        ("versionaddendum", "VersionAddendum", Other),
        ("refuseconnection", "RefuseConnection", Other),
        ("warnweakcrypto", "WarnWeakCrypto", Other),
    ]
};

/// The documented spelling and role of a keyword, matched without case.
pub(crate) fn lookup(keyword: &str) -> Option<(&'static str, Role)> {
    let lower = keyword.to_ascii_lowercase();
    KEYWORDS.iter().find(|(k, _, _)| *k == lower).map(|&(_, name, role)| (name, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_found_whatever_their_case() {
        assert_eq!(lookup("HOSTNAME"), Some(("HostName", Role::HostName)));
        assert_eq!(lookup("localForward"), Some(("LocalForward", Role::Other)));
        assert_eq!(lookup("UseKeychain"), None);
    }

    #[test]
    fn every_keyword_is_listed_once_in_lowercase() {
        for (i, (k, name, _)) in KEYWORDS.iter().enumerate() {
            assert_eq!(*k, name.to_ascii_lowercase(), "{name}");
            assert!(KEYWORDS[i + 1..].iter().all(|(o, _, _)| o != k), "{k} twice");
        }
    }
}
