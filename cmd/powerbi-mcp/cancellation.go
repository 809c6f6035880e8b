package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
)

// ownCancellation binds notifications/cancelled on stateless streamable HTTP to whoever sent
// the request it names. mcp-go keys the requests in flight of a request without a session,
// which every stateless request is, by its id alone: any caller's cancellation of id 5
// cancels whichever call with id 5 was stored last, and two callers' concurrent calls with
// the same id overwrite each other's entry. Ids are small counters that every client starts
// at the same numbers, so with a team on one server this happens by accident, not only by
// malice.
//
// So the cancellations never reach mcp-go: this handler answers each notifications/cancelled
// itself (202, as the transport does for a notification) and cancels the request it names
// only among the requests in flight of the same sender. Each request is served with a
// context of its own that is registered under (sender, id) for as long as it runs; the tool
// call's context derives from it. mcp-go still writes the answer of a cancelled call, as it
// does after its own cancellations.
//
// The sender is the signed-in caller (auth.Caller.Key()) with Entra sign-in. Without it (a
// shared caller token, or loopback with none) every client acts as the one identity the server
// has, so nothing distinguishes them but what a client says of itself: the Mcp-Session-Id header
// when it sends one (a stateless server mints none, but a client may keep one from elsewhere);
// it is part of the sender in both modes. When two requests of one sender carry the same id,
// a cancellation of that id is ambiguous and cancels neither: cancellation is advisory in MCP
// (the call's answer still comes and the client ignores it), while cancelling the wrong call
// loses another client's work.
type ownCancellation struct {
	logger zerolog.Logger
	mu     sync.Mutex
	calls  map[inflightKey][]*inflightCall
}

type inflightKey struct{ sender, id string }

type inflightCall struct{ cancel context.CancelFunc }

func newOwnCancellation(logger zerolog.Logger) *ownCancellation {
	return &ownCancellation{logger: logger, calls: map[inflightKey][]*inflightCall{}}
}

// rpcMessage is what ownCancellation reads of a JSON-RPC message. Go's decoder matches member
// names case-insensitively, a superset of what mcp-go accepts, so no cancellation mcp-go would
// act on passes unseen.
type rpcMessage struct {
	ID     *mcp.RequestId `json:"id"`
	Method string         `json:"method"`
	Params struct {
		RequestID *mcp.RequestId `json:"requestId"`
	} `json:"params"`
}

// sender names who sent r, as ownCancellation tells senders apart.
func sender(r *http.Request) string {
	who := "server identity"
	if c, ok := auth.CallerFrom(r.Context()); ok {
		who = "caller " + c.Key()
	}
	if s := r.Header.Get("Mcp-Session-Id"); s != "" {
		who += ", session " + s
	}
	return who
}

func (o *ownCancellation) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A body over the bound is mcp-go's to refuse (413), unread when its length says so.
		if r.Method != http.MethodPost || r.Body == nil || r.ContentLength > maxRequestBody {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		rest := io.Reader(r.Body)
		if err != nil {
			rest = errReader{err}
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), rest), r.Body}
		var m rpcMessage
		if err != nil || len(body) > maxRequestBody || json.Unmarshal(body, &m) != nil || m.Method == "" {
			next.ServeHTTP(w, r) // mcp-go answers what is not a request or a notification
			return
		}
		who := sender(r)
		if m.Method == string(mcp.MethodNotificationCancelled) {
			if m.Params.RequestID != nil {
				o.cancel(inflightKey{who, m.Params.RequestID.String()})
			}
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if m.ID == nil || m.ID.IsNil() {
			next.ServeHTTP(w, r)
			return
		}
		key := inflightKey{who, m.ID.String()}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		call := &inflightCall{cancel: cancel}
		o.add(key, call)
		defer o.remove(key, call)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (o *ownCancellation) add(key inflightKey, call *inflightCall) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[key] = append(o.calls[key], call)
}

func (o *ownCancellation) remove(key inflightKey, call *inflightCall) {
	o.mu.Lock()
	defer o.mu.Unlock()
	calls := o.calls[key]
	for i, c := range calls {
		if c == call {
			calls = append(calls[:i:i], calls[i+1:]...)
			break
		}
	}
	if len(calls) == 0 {
		delete(o.calls, key)
	} else {
		o.calls[key] = calls
	}
}

func (o *ownCancellation) cancel(key inflightKey) {
	o.mu.Lock()
	calls := o.calls[key]
	o.mu.Unlock()
	switch len(calls) {
	case 0:
		// Finished already, or never this sender's: nothing to do either way.
	case 1:
		calls[0].cancel()
	default:
		o.logger.Warn().Str("sender", key.sender).Int("requests", len(calls)).
			Msg("ignored a cancellation: several requests in flight of this sender have its id; give each client a session (Mcp-Session-Id) or Entra sign-in")
	}
}

// errReader fails every read with err: a body that could not be read fails for mcp-go as it
// failed here.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
