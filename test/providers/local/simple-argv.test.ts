/*
 * Fork-mode commands without shell syntax are spawned directly (no /bin/sh per call); the argv
 * must be exactly what the shell would have made of them.
 */
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { simpleArgv } from '../../../providers/local/secret-mount.ts'

/** what /bin/sh makes of the words: each argument printed NUL-terminated */
const shellArgv = (cmd: string): string[] =>
  execFileSync('/bin/sh', ['-c', `set -- ${cmd}; printf '%s\\0' "$@"`]).toString('utf8').split('\0').slice(0, -1)

for (const cmd of ['cat', 'wc -w', "tr ' ' '-'", 'printf "%s," "a b" c', 'node server.js --port=8080', "echo 'it''s'", 'sed s/a/b/ -e "x y"']) {
  t.same(simpleArgv(cmd), shellArgv(cmd), cmd)
}

for (const cmd of ['echo $HOME', 'cat | wc', 'printf "%s|" x', 'A=b cmd', 'ls *.txt', 'echo `id`', 'cat < f', "echo 'open", 'a && b', '']) {
  t.equal(simpleArgv(cmd), undefined, `${cmd} needs the shell`)
}
