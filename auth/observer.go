package auth

// Observer hears how a token source gets its tokens, so that an operator can see the load on
// Entra ID and how well the caches work (the command counts them as Prometheus metrics). auth
// has no metrics of its own: it knows nothing of how they are served.
//
// flow names whose tokens they are, one of a fixed few (FlowServer, FlowOnBehalfOf), so a
// metric labelled with it stays small. The methods run on the path of a request and must
// return quickly; concurrent requests call them concurrently.
type Observer interface {
	// TokenCacheHit is a token handed out from the source's own cache, with no request.
	TokenCacheHit(flow string)
	// TokenRequested is one request for a token to the credential (MSAL, and through it Entra
	// ID, unless MSAL's cache answers), with its outcome. Concurrent callers sharing one
	// request count once.
	TokenRequested(flow string, err error)
}

// The flows an Observer hears of.
const (
	// FlowServer is the server's own identity: whatever credential it is configured with.
	FlowServer = "server"
	// FlowOnBehalfOf is a caller's token exchanged for a Power BI token on their behalf.
	FlowOnBehalfOf = "obo"
)
