package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// handle adapts a typed tool function to an MCP handler: arguments are bound to A, a result
// becomes structured content plus the same JSON as text, each at most budget bytes (see
// fitBudget), and a failure becomes an isError result the model can act on. action names what
// failed, e.g. "list workspaces".
func handle[A, O any](action string, budget int, fn func(context.Context, mcp.CallToolRequest, A) (O, error)) server.ToolHandlerFunc {
	fit := newResultFit[A](budget)
	return mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, a A) (*mcp.CallToolResult, error) {
		ctx = withRoundTrip(ctx, req)
		out, err := fn(ctx, req, a)
		var input *inputRequired
		if errors.As(err, &input) {
			return input.result, nil
		}
		if err != nil {
			if ask := presentSignIn(ctx, err); ask != nil {
				return ask, nil
			}
			return errorResult(action, err), nil
		}
		raw, err := fit.encode(out, req.GetInt("skip", 0))
		if err != nil {
			return errorResult(action, err), nil
		}
		// One encoding serves both: the text for clients that read only text, and the
		// structured content, which mcp-go sends as these bytes.
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(string(raw))}, StructuredContent: json.RawMessage(raw)}, nil
	})
}

// resultFit makes one tool's results fit its budget.
type resultFit struct {
	budget int
	// paged: the tool takes skip, so a list cut short continues at nextSkip = skip + count.
	paged bool
	// less says how to ask this tool for less, from the arguments it takes.
	less string
}

// narrowing names, for the arguments a tool may take, how each asks for less.
var narrowing = []struct{ arg, how string }{
	{"top", "a smaller top"},
	{"limit", "a smaller limit"},
	{"max_rows", "a smaller max_rows"},
	{"filter", "a narrower filter"},
	{"start_date_time", "a narrower time window"},
	{"expand", "fewer expand values"},
	{"workspaces", "fewer workspaces"},
	{"dataset_expressions", "dataset_expressions false"},
}

func newResultFit[A any](budget int) resultFit {
	args := map[string]bool{}
	if t := reflect.TypeFor[A](); t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			args[name] = true
		}
	}
	var hows []string
	for _, n := range narrowing {
		if args[n.arg] {
			hows = append(hows, n.how)
		}
	}
	less := "The parts cut are not in this answer."
	if len(hows) > 0 {
		less = "Ask for less: " + strings.Join(hows, ", ") + "."
	}
	return resultFit{budget: budget, paged: args["skip"], less: less}
}

// null is JSON's null, which a result's structured content never carries as a member's value.
var null = []byte("null")

// encode is out as JSON of at most f.budget bytes, with no object member whose value is null
// (an output schema's optional field is absent, never null; nulls in arrays, such as DAX blanks,
// stay). What does not fit is cut and says so (fit). skip is the call's skip argument.
func (f resultFit) encode(out any, skip int) ([]byte, error) {
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode the result: %w", err)
	}
	if len(raw) <= f.budget && !bytes.Contains(raw, null) {
		return raw, nil // the common case: nothing to parse
	}
	root := parseJSON(raw)
	if root.size > f.budget && root.obj {
		f.fit(root, out, skip)
	}
	var b bytes.Buffer
	b.Grow(root.size)
	root.write(&b)
	return b.Bytes(), nil
}

// fit cuts root, the result out encoded, larger than the budget, until it fits.
//
// A page of a list (a result with count and hasMore, of a tool that takes skip) keeps as many
// leading items as fit and continues at nextSkip, so that paging on loses and repeats nothing.
// Anything else has its largest arrays shortened from the end (the longest strings last), and a
// note in "truncation" says what was cut and how to ask for less. A list that continues with a
// token (a continuer) gets the token that resumes after the last item kept.
func (f resultFit) fit(root *jnode, out any, skip int) {
	page := f.paged && root.member("count") != nil && root.member("hasMore") != nil
	if page {
		if list := root.largestArray(); list != nil && len(list.kids) > 0 {
			f.cutPage(root, list, skip)
			if root.size <= f.budget {
				return
			}
		}
	}
	more, resumes := out.(continuer)
	var cuts []cut
	for root.size > f.budget {
		c, ok := root.shorten(root.size - f.budget)
		if !ok {
			break // nothing left to cut: the budget is smaller than the result's frame
		}
		i := slices.IndexFunc(cuts, func(o cut) bool { return o.path == c.path })
		if i < 0 {
			cuts = append(cuts, c)
		} else {
			cuts[i].kept = c.kept
		}
		if !page && !c.text && root.index(c.path) >= 0 {
			// The result's own list: its count and continuation must describe what was kept.
			if root.member("count") != nil {
				root.set("count", strconv.AppendInt(nil, int64(c.kept), 10))
			}
			if resumes {
				root.set("continuationToken", quote(more.continueAfter(c.kept)))
			} else {
				root.remove("continuationToken")
			}
		}
		root.set("truncated", []byte("true"))
		root.set("truncation", quote(f.note(cuts, page, resumes)))
		root.resize()
	}
}

// continuer is a result whose list goes on with a continuation token instead of skip.
type continuer interface {
	// continueAfter is the token that resumes the list after its first n items.
	continueAfter(n int) string
}

// cutPage keeps the leading items of list, the page's items, that fit the budget.
func (f resultFit) cutPage(root, list *jnode, skip int) {
	items := list.kids
	// The frame is measured with the largest numbers it can hold, so the items counted in fit.
	list.kids = nil
	root.set("count", strconv.AppendInt(nil, int64(len(items)), 10))
	root.set("hasMore", []byte("true"))
	root.set("nextSkip", strconv.AppendInt(nil, int64(skip+len(items)), 10))
	root.set("truncated", []byte("true"))
	root.resize()
	room, kept := f.budget-root.size, 0
	for _, it := range items {
		need := it.size
		if kept > 0 {
			need++ // the comma
		}
		if need > room {
			break
		}
		room -= need
		kept++
	}
	// An item larger than the whole budget still goes, alone: the general cut shortens it, and
	// paging moves on past it.
	kept = max(kept, 1)
	list.kids = items[:kept]
	root.set("count", strconv.AppendInt(nil, int64(kept), 10))
	root.set("nextSkip", strconv.AppendInt(nil, int64(skip+kept), 10))
	root.resize()
}

// cut records one shortened array or string of a result.
type cut struct {
	path        string
	kept, total int
	text        bool // a string, counted in bytes
}

// note says what fit cut and how to get the rest.
func (f resultFit) note(cuts []cut, page, resumes bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Cut to fit the %d-byte result budget:", f.budget)
	for i, c := range cuts {
		if i > 0 {
			b.WriteString(";")
		}
		if c.text {
			fmt.Fprintf(&b, " %s kept the first %d of %d bytes", c.path, c.kept, c.total)
		} else {
			fmt.Fprintf(&b, " %s kept the first %d of %d items", c.path, c.kept, c.total)
		}
	}
	b.WriteString(". ")
	switch {
	case page:
		b.WriteString("The next items follow at skip = nextSkip. ")
	case resumes:
		b.WriteString("The next items follow with continuation_token = continuationToken. ")
	}
	b.WriteString(f.less)
	return b.String()
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// jnode is a parsed JSON value: an object (keys name kids), an array (kids), or a scalar kept
// as its encoding. A result is encoded once with encoding/json; a jnode lets fit cut it and
// drop null members without decoding its values.
type jnode struct {
	obj  bool
	arr  bool
	keys []string // objects: each member's key as encoded, quotes included
	kids []*jnode
	raw  []byte // scalars
	size int    // the length of the encoding
}

// parseJSON parses what json.Marshal produced (valid, compact), dropping object members whose
// value is null.
func parseJSON(b []byte) *jnode {
	n, _ := parseValue(b, 0)
	return n
}

func parseValue(b []byte, i int) (*jnode, int) {
	switch b[i] {
	case '{':
		n := &jnode{obj: true}
		i++
		for b[i] != '}' {
			end := skipString(b, i)
			key := string(b[i:end])
			v, next := parseValue(b, end+1) // past the colon
			if v.raw == nil || !bytes.Equal(v.raw, null) {
				n.keys = append(n.keys, key)
				n.kids = append(n.kids, v)
			}
			i = next
			if b[i] == ',' {
				i++
			}
		}
		n.resize()
		return n, i + 1
	case '[':
		n := &jnode{arr: true}
		i++
		for b[i] != ']' {
			v, next := parseValue(b, i)
			n.kids = append(n.kids, v)
			i = next
			if b[i] == ',' {
				i++
			}
		}
		n.resize()
		return n, i + 1
	case '"':
		end := skipString(b, i)
		return &jnode{raw: b[i:end], size: end - i}, end
	default:
		end := i
		for end < len(b) && b[end] != ',' && b[end] != '}' && b[end] != ']' {
			end++
		}
		return &jnode{raw: b[i:end], size: end - i}, end
	}
}

// skipString returns the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// resize computes n's size from its children's.
func (n *jnode) resize() {
	if !n.obj && !n.arr {
		n.size = len(n.raw)
		return
	}
	n.size = 2 + max(len(n.kids)-1, 0)
	for i, k := range n.kids {
		n.size += k.size
		if n.obj {
			n.size += len(n.keys[i]) + 1
		}
	}
}

func (n *jnode) write(b *bytes.Buffer) {
	switch {
	case n.obj:
		b.WriteByte('{')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n.keys[i])
			b.WriteByte(':')
			k.write(b)
		}
		b.WriteByte('}')
	case n.arr:
		b.WriteByte('[')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			k.write(b)
		}
		b.WriteByte(']')
	default:
		b.Write(n.raw)
	}
}

// member is the value of n's member key (unquoted), or nil.
func (n *jnode) member(key string) any {
	if i := n.index(key); i >= 0 {
		return n.kids[i]
	}
	return nil
}

func (n *jnode) index(key string) int {
	q := `"` + key + `"`
	return slices.Index(n.keys, q)
}

// set gives n's member key the encoded value v, adding the member at the end if it is new.
// The caller resizes n.
func (n *jnode) set(key string, v []byte) {
	val := &jnode{raw: v, size: len(v)}
	if i := n.index(key); i >= 0 {
		n.kids[i] = val
		return
	}
	n.keys = append(n.keys, `"`+key+`"`)
	n.kids = append(n.kids, val)
}

func (n *jnode) remove(key string) {
	if i := n.index(key); i >= 0 {
		n.keys = slices.Delete(n.keys, i, i+1)
		n.kids = slices.Delete(n.kids, i, i+1)
	}
}

// largestArray is n's largest member that is an array.
func (n *jnode) largestArray() *jnode {
	var best *jnode
	for _, k := range n.kids {
		if k.arr && (best == nil || k.size > best.size) {
			best = k
		}
	}
	return best
}

// shorten cuts excess bytes or more from n, at one place, from the end: the largest array of two
// or more items loses items; failing that, the longest string (of more than minCut bytes) is
// shortened; failing that, the largest array of one item loses it. It reports what it cut, by
// path from n, and false when nothing is left to cut. Sizes on the path are updated.
func (n *jnode) shorten(excess int) (cut, bool) {
	rank := func(x *jnode) int {
		switch {
		case x.arr && len(x.kids) > 1:
			return 3
		case !x.obj && !x.arr && x.raw[0] == '"' && len(x.raw) > minCut:
			return 2
		case x.arr && len(x.kids) == 1:
			return 1
		}
		return 0
	}
	var (
		best     *jnode
		bestRank int
		bestUp   []*jnode
		path     string
	)
	var walk func(x *jnode, p string, up []*jnode)
	walk = func(x *jnode, p string, up []*jnode) {
		if r := rank(x); r > bestRank || (r == bestRank && r > 0 && x.size > best.size) {
			best, bestRank, bestUp, path = x, r, slices.Clone(up), p
		}
		up = append(up, x)
		for i, k := range x.kids {
			if x.obj {
				walk(k, joinPath(p, x.keys[i]), up)
			} else {
				walk(k, p+"["+strconv.Itoa(i)+"]", up)
			}
		}
	}
	walk(n, "", nil)
	var c cut
	switch bestRank {
	case 0:
		return cut{}, false
	case 2:
		var s string
		_ = json.Unmarshal(best.raw, &s)
		// The string's encoding may hold escapes: cut in proportion, then to a whole character.
		keep := max(len(best.raw)-excess-len(ellipsis)-2, 0) * len(s) / len(best.raw)
		for keep > 0 && !utf8.RuneStart(s[keep]) {
			keep--
		}
		best.raw = quote(s[:keep] + ellipsis)
		c = cut{path: path, kept: keep, total: len(s), text: true}
	default:
		c = cut{path: path, total: len(best.kids)}
		for drop := 0; len(best.kids) > 1 && drop < excess; {
			drop += best.kids[len(best.kids)-1].size + 1
			best.kids = best.kids[:len(best.kids)-1]
		}
		if bestRank == 1 {
			best.kids = nil
		}
		c.kept = len(best.kids)
	}
	best.resize()
	for i := len(bestUp) - 1; i >= 0; i-- {
		bestUp[i].resize()
	}
	return c, true
}

// minCut is the shortest string shorten cuts: a shorter one gains too little.
const minCut = 64

// ellipsis ends a string that shorten cut.
const ellipsis = "…"

// joinPath extends a path to a member with its encoded key.
func joinPath(p, key string) string {
	var k string
	if err := json.Unmarshal([]byte(key), &k); err != nil {
		k = key
	}
	if p == "" {
		return k
	}
	return p + "." + k
}
