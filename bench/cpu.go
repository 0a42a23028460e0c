package main

import (
	"os"
	"time"
)

// cpuTimes is the CPU time (user + system) used so far by each process on
// the machine that takes part in a phase: the gateway (dcrgate or the
// floor), slapd and the load generator. A process the tool cannot read (no
// gateway in a raw phase, a directory it did not start) is unread (-1) and
// counts 0 in a difference.
type cpuTimes struct {
	gateway, slapd, load time.Duration
}

// readCPU reads them now; gw is the gateway of the phase, nil for raw LDAP.
func (e *env) readCPU(gw *gateway) cpuTimes {
	t := cpuTimes{gateway: unread, slapd: unread}
	if gw != nil {
		t.gateway = readOr(gw.cpuTime())
	}
	if e.slapd != nil {
		t.slapd = readOr(processCPU(e.slapd.Pid()))
	}
	t.load = readOr(processCPU(os.Getpid()))
	return t
}

// minus is the time used since u was read.
func (t cpuTimes) minus(u cpuTimes) cpuTimes {
	return cpuTimes{gateway: since(t.gateway, u.gateway), slapd: since(t.slapd, u.slapd), load: since(t.load, u.load)}
}

func (t cpuTimes) plus(u cpuTimes) cpuTimes {
	return cpuTimes{gateway: t.gateway + u.gateway, slapd: t.slapd + u.slapd, load: t.load + u.load}
}

// unread marks a CPU time that could not be read.
const unread time.Duration = -1

func readOr(d time.Duration, err error) time.Duration {
	if err != nil {
		return unread
	}
	return d
}

// since is now - before, or 0 when either was unread or the process was
// replaced in between, so a failed read never passes for a whole lifetime.
func since(now, before time.Duration) time.Duration {
	if now == unread || before == unread {
		return 0
	}
	return max(now-before, 0)
}
