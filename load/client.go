package load

import (
	"context"
	"crypto/tls"
	"net/http"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// client is the attacker's HTTP client: a transport of the egress gate with
// the run's connection limits, whose connections all close when hardCtx ends.
// Every request passes the gate's host check and, off loopback, its rate
// ceiling (a wait there ends when hardCtx does); redirects are not followed.
func (e *engine) client(hardCtx context.Context) *http.Client {
	gate := e.cfg.Gate
	if gate == nil {
		var tlsCfg *tls.Config
		if e.cfg.Transport != nil {
			tlsCfg = e.cfg.Transport.TLSClientConfig
		}
		gate = egress.Default(tlsCfg)
	}
	tr := gate.Transport()
	tr.MaxIdleConnsPerHost = int(e.plan.Connections)
	tr.MaxIdleConns = int(e.plan.Connections)
	conns := newConnTracker()
	conns.track(tr)
	context.AfterFunc(hardCtx, conns.stop)
	return gate.ClientFor(tr, e.plan.Timeout, hardCtx)
}
