#!/bin/sh
# Managed by CHOM: the scheduled backup of {{domain}} (chom backup schedule),
# run by cron as root. It feeds the backup script its run token and the
# repository's password, keeps its output, and writes the run's result as
# one JSON line that the desktop's next probe reads. Only lines carrying the
# token are read: nothing the site prints can pass for a result.
d=/var/backups/chom/schedule
status=/var/lib/chom/backups/{{domain}}.json
started=$(date -u +%FT%TZ)
{ printf '%s\n%s\n' {{token}} "the schedule of {{domain}}"; cat /var/backups/chom/restic.pass; } |
  /bin/sh "$d/{{domain}}.sh" >"$d/{{domain}}.log" 2>&1
st=$?
ev() { sed -n "s/^@@chom:{{token}} $1 //p" "$d/{{domain}}.log"; }
# A value as JSON can hold it: CHOM's own words (ids, numbers).
word() { ev "value $1" | tail -1 | tr -cd 'A-Za-z0-9._:-'; }
num() { n=$(word "$1"); case "$n" in "" | *[!0-9]*) echo 0 ;; *) echo "$n" ;; esac; }
# The error quotes what failed, which may name a site's file: one line,
# no control characters, cut before escaping.
error=$(ev error | tail -1 | tr -d '\000-\037' | cut -c1-500 | sed 's/\\/\\\\/g; s/"/\\"/g')
ok=false
[ "$st" = 0 ] && ok=true
# A drill runs last and its failure is not the run's: its error is its own.
drill=$(word drill)
drill_error=""
if [ "$drill" = failed ] || [ "$drill" = started ]; then
  drill=failed drill_error=$error
  [ "$st" != 0 ] || error=""
fi
umask 022
printf '{"domain":"%s","started":"%s","finished":"%s","ok":%s,"exit":%d,"backup":"%s","release":"%s","files_snapshot":"%s","db_snapshot":"%s","files":%s,"bytes":%s,"added":%s,"db_bytes":%s,"engine":"%s","removed":"%s","error":"%s","drill":"%s","drill_files":%s,"drill_tables":%s,"drill_rows":%s,"drill_ms":%s,"drill_error":"%s"}\n' \
  {{domain}} "$started" "$(date -u +%FT%TZ)" "$ok" "$st" "$(word backup)" "$(word release)" "$(word files_snapshot)" \
  "$(word db_snapshot)" "$(num files)" "$(num bytes)" "$(num added)" "$(num db_bytes)" "$(word engine)" \
  "$(ev 'value removed' | tail -1 | tr -cd '0-9a-f ')" "$error" "$drill" "$(num drill_files)" "$(num drill_tables)" \
  "$(num drill_rows)" "$(num drill_ms)" "$drill_error" >"$status.new" && mv -f "$status.new" "$status"
