package reconcile

import (
	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/providers/trust"
)

// Outputs are the files and folders this pass may write besides the
// servers: the state directory (lock, journal, inventory), the sealed
// outputs, the truststore files with their backups, and the truststores'
// ownership record. A daemon watching the manifests ignores their changes,
// so its own writes never trigger another pass.
func (p *Pass) Outputs() []string {
	out := []string{apply.StateDir(p.Options.EnvDir)}
	if s := p.Options.Secrets.Sealer; s != nil && s.Store != nil {
		out = append(out, s.Store.Dir)
	}
	if p.State == nil {
		return out
	}
	if r := p.Options.Trust.Root; r != "" {
		out = append(out, r)
	}
	for _, t := range p.State.Truststores {
		path := p.truststorePath(t)
		out = append(out, path, path+trust.BackupSuffix)
	}
	return out
}
