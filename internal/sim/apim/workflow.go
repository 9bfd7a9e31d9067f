package apim

import (
	"context"
	"slices"
)

// PendingWorkflows counts what approval-workflow mode left pending.
type PendingWorkflows struct {
	Applications        int `json:"applications"`        // status CREATED
	ApplicationDeletes  int `json:"applicationDeletes"`  // 202 deletes
	Subscriptions       int `json:"subscriptions"`       // ON_HOLD
	TierUpdates         int `json:"tierUpdates"`         // TIER_UPDATE_PENDING
	SubscriptionDeletes int `json:"subscriptionDeletes"` // 202 deletes
	KeyGenerations      int `json:"keyGenerations"`      // keyState CREATED
}

// ApproveWorkflows approves every pending workflow task, as an admin would
// in the Admin portal: applications become APPROVED, subscriptions
// UNBLOCKED, tier changes apply, pending deletes happen and pending key
// generations create their OAuth clients (through the registry for
// WSO2-IS-7). It returns what was approved; key generations whose client
// creation fails stay pending.
func (s *Server) ApproveWorkflows(ctx context.Context) PendingWorkflows {
	var n PendingWorkflows
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.st.apps {
		if a.Status == "CREATED" {
			a.Status = "APPROVED"
			n.Applications++
		}
	}
	for _, sub := range s.st.subs {
		switch sub.Status {
		case "ON_HOLD":
			sub.Status = "UNBLOCKED"
			n.Subscriptions++
		case "TIER_UPDATE_PENDING":
			sub.ThrottlingPolicy, sub.RequestedThrottlingPolicy = sub.RequestedThrottlingPolicy, ""
			sub.Status = "UNBLOCKED"
			n.TierUpdates++
		}
	}
	for _, sub := range slicesOf(s.st.subs) {
		if sub.pendingDelete {
			s.st.removeSub(sub)
			n.SubscriptionDeletes++
		}
	}
	for _, k := range slicesOf(s.st.keys) {
		if k.KeyState != "CREATED" {
			continue
		}
		app, km := s.st.apps[k.ApplicationID], s.st.kms[k.KeyManagerID]
		if app == nil || km == nil {
			continue
		}
		s.st.removeKey(k)
		if err := s.createClient(ctx, km, app, k); err == nil {
			k.KeyState = "COMPLETED"
			n.KeyGenerations++
		}
		s.st.insertKey(k)
	}
	for _, a := range slicesOf(s.st.apps) {
		if a.pendingDelete {
			s.deleteAppLocked(ctx, a)
			n.ApplicationDeletes++
		}
	}
	return n
}

// Pending reports what is waiting for ApproveWorkflows.
func (s *Server) Pending() PendingWorkflows {
	var n PendingWorkflows
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.st.apps {
		if a.Status == "CREATED" {
			n.Applications++
		}
		if a.pendingDelete {
			n.ApplicationDeletes++
		}
	}
	for _, sub := range s.st.subs {
		switch {
		case sub.pendingDelete:
			n.SubscriptionDeletes++
		case sub.Status == "ON_HOLD":
			n.Subscriptions++
		case sub.Status == "TIER_UPDATE_PENDING":
			n.TierUpdates++
		}
	}
	for _, k := range s.st.keys {
		if k.KeyState == "CREATED" {
			n.KeyGenerations++
		}
	}
	return n
}

func slicesOf[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return slices.Clip(out)
}
