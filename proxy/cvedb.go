package proxy

import (
	"context"
	"errors"
	"time"
)

// cvedbState is the controller's CVE DB as last seen: from
// GET /v1/system/summary or from a scan report. Empty while unknown.
type cvedbState struct {
	version    string
	createTime string // RFC 3339, as the controller writes it
}

// currentCVEDB returns the CVE DB version known now ("" while unknown).
func (a *API) currentCVEDB() string { return a.cvedb.Load().version }

// noteCVEDB records a CVE DB version (and create time when known) and
// rebuilds metadata when it changed. A report's version is the controller's
// word at scan time, so it wins over an older summary read.
func (a *API) noteCVEDB(version, createTime string) {
	if version == "" {
		return
	}
	for {
		old := a.cvedb.Load()
		if old.version == version && (createTime == "" || old.createTime == createTime) {
			return
		}
		next := &cvedbState{version: version, createTime: createTime}
		if createTime == "" && old.version == version {
			next.createTime = old.createTime
		}
		if a.cvedb.CompareAndSwap(old, next) {
			if old.version != "" && old.version != version {
				a.log.Info("CVE database changed", "from", old.version, "to", version)
			}
			a.rebuildMetadata()
			return
		}
	}
}

// kickCVEDB asks the refresh loop to read the CVE DB now (first credential
// verified in pass-through mode).
func (a *API) kickCVEDB() {
	select {
	case a.cvedbKick <- struct{}{}:
	default:
	}
}

// cvedbLoop reads the CVE DB version every CVEDBRefresh and when kicked.
func (a *API) cvedbLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.CVEDBRefresh)
	defer t.Stop()
	a.refreshCVEDB(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.cvedbKick:
		}
		a.refreshCVEDB(ctx)
	}
}

// refreshCVEDB reads GET /v1/system/summary with whatever session the
// adapter holds: its own in static modes, any live pass-through session
// otherwise (none yet: nothing to do until Harbor calls).
func (a *API) refreshCVEDB(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sess := a.static
	if sess == nil {
		if sess = a.sessions.Any(); sess == nil {
			return
		}
	}
	sum, err := a.client.Summary(ctx, sess)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			a.log.Warn("CVE database read failed", "error", err.Error())
			cvedbErrors.Inc()
		}
		return
	}
	a.noteCVEDB(sum.CVEDBVersion, sum.CVEDBCreateTime)
}

// readyLoop pings the controller's REST API every ReadyCheck so that
// /readyz answers from memory.
func (a *API) readyLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.ReadyCheck)
	defer t.Stop()
	for {
		a.checkReady(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *API) checkReady(ctx context.Context) {
	timeout := a.cfg.ReadyCheck
	if timeout > 5*time.Second {
		timeout = 5 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	err := a.client.Ping(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	msg := ""
	if err != nil {
		msg = "controller REST API not answering: " + err.Error()
	}
	a.controllerErr.Store(&msg)
	a.controllerOK.Store(err == nil)
	a.controllerAt.Store(a.cfg.Now().UnixNano())
}
