# After a fresh login proved the new sshd configuration: keep it (KEEP=1),
# or put back the previous one and reload (KEEP=0).
conf=/etc/ssh/sshd_config.d/01-chom-hardening.conf
if [ "$KEEP" = 1 ]; then
  rm -f "$conf.chom-old"
else
  restore_file "$conf"
  reload_sshd || fail "reloading sshd with the previous configuration failed"
  changed "sshd: previous configuration restored"
fi
