package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
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
// resultFit.encode), and a failure becomes an isError result the model can act on. action names what
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
		res := &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(string(raw))}, StructuredContent: json.RawMessage(raw)}
		if w, ok := any(out).(writesFiles); ok {
			res.Content = append(res.Content, resourceLinks(w.writtenFiles())...) // after the text
		}
		return res, nil
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

// newResultFit reads from A, a tool's arguments, whether it pages with skip and how it can be
// asked for less.
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
	if root.size > f.budget {
		if root.expand(); root.obj {
			f.fit(root, out, skip)
		}
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
	var list *jnode // the page's items, which from here on nextSkip describes
	if page {
		if list = root.largestArray(); list != nil {
			f.cutPage(root, list, skip)
			if root.size <= f.budget {
				return
			}
		}
	}
	more, resumes := out.(continuer)
	root.expandAll()
	var cuts []cut
	for root.size > f.budget {
		// The page's items stay (nextSkip counts them), and so do the note and the token.
		c, ok := root.shorten(root.size-f.budget, list, root.member("truncation"), root.member("continuationToken"))
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

// cutPage keeps the leading items of list, the page's items, that fit the budget. Items past
// those are not even parsed.
func (f resultFit) cutPage(root, list *jnode, skip int) {
	whole := *list
	keys, kids := slices.Clone(root.keys), slices.Clone(root.kids)
	// The frame is measured with the largest numbers it can hold, so the items counted in fit:
	// there are fewer items than bytes.
	most := whole.size
	*list = jnode{arr: true}
	list.resize()
	root.set("count", strconv.AppendInt(nil, int64(most), 10))
	root.set("hasMore", []byte("true"))
	root.set("nextSkip", strconv.AppendInt(nil, int64(skip+most), 10))
	root.set("truncated", []byte("true"))
	root.resize()
	room, all := f.budget-root.size, true
	for it := range whole.items() {
		need := it.size
		if len(list.kids) > 0 {
			need++ // the comma
		}
		// An item larger than the whole budget still goes, alone: the general cut shortens it,
		// and paging moves on past it.
		if need > room && len(list.kids) > 0 {
			all = false
			break
		}
		room -= need
		list.kids = append(list.kids, it)
	}
	if all {
		// Every item fits: the page stays as the tool made it, and the general cut finds what
		// else is too large.
		*list, root.keys, root.kids = whole, keys, kids
		root.resize()
		return
	}
	list.resize()
	root.set("count", strconv.AppendInt(nil, int64(len(list.kids)), 10))
	root.set("nextSkip", strconv.AppendInt(nil, int64(skip+len(list.kids)), 10))
	root.resize()
}

// items yields the items of the array n, parsing an unparsed one only as far as it is read.
func (n *jnode) items() iter.Seq[*jnode] {
	return func(yield func(*jnode) bool) {
		if !n.unparsed() {
			for _, k := range n.kids {
				if !yield(k) {
					return
				}
			}
			return
		}
		b := n.raw
		for i := 1; b[i] != ']'; {
			end := skipValue(b, i)
			if !yield(&jnode{raw: b[i:end], size: end - i}) {
				return
			}
			i = end
			if b[i] == ',' {
				i++
			}
		}
	}
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

// jnode is a JSON value, parsed only as far as a cut needs: an object (keys name kids), an
// array (kids), or, kept as its encoding in raw, a scalar or a container not parsed yet. A result
// is encoded once with encoding/json; a jnode lets fit cut it and drop null members without
// decoding its values.
type jnode struct {
	obj  bool
	arr  bool
	keys []string // objects: each member's key as encoded, quotes included
	kids []*jnode
	raw  []byte // scalars, and containers not parsed yet
	size int    // the length of the encoding
}

// parseJSON parses what json.Marshal produced (valid, compact) as far as dropping object
// members whose value is null needs: a container holding no null stays as its bytes.
func parseJSON(b []byte) *jnode {
	n := &jnode{raw: b, size: len(b)}
	n.expandNulls()
	return n
}

// unparsed reports whether n is a container kept as its bytes.
func (n *jnode) unparsed() bool {
	return len(n.raw) > 0 && (n.raw[0] == '{' || n.raw[0] == '[')
}

// expand parses one level of an unparsed container: its members or items stay unparsed. An
// object member whose value is null is dropped.
func (n *jnode) expand() {
	if !n.unparsed() {
		return
	}
	b := n.raw
	n.raw, n.obj, n.arr = nil, b[0] == '{', b[0] == '['
	for i := 1; b[i] != '}' && b[i] != ']'; {
		var key string
		if n.obj {
			end := skipString(b, i)
			key, i = string(b[i:end]), end+1 // past the colon
		}
		end := skipValue(b, i)
		if v := b[i:end]; !n.obj || !bytes.Equal(v, null) {
			if n.obj {
				n.keys = append(n.keys, key)
			}
			n.kids = append(n.kids, &jnode{raw: v, size: len(v)})
		}
		i = end
		if b[i] == ',' {
			i++
		}
	}
	n.resize()
}

// expandNulls expands n, and in it every container that holds a null.
func (n *jnode) expandNulls() {
	if !n.unparsed() || !bytes.Contains(n.raw, null) {
		return
	}
	n.expand()
	for _, k := range n.kids {
		k.expandNulls()
	}
	n.resize()
}

// expandAll parses n whole.
func (n *jnode) expandAll() {
	n.expand()
	for _, k := range n.kids {
		k.expandAll()
	}
	n.resize()
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		for depth := 0; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default:
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
			i++
		}
		return i
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
func (n *jnode) member(key string) *jnode {
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

// largestArray is n's largest member that is an array, parsed or not.
func (n *jnode) largestArray() *jnode {
	var best *jnode
	for _, k := range n.kids {
		if (k.arr || k.unparsed() && k.raw[0] == '[') && (best == nil || k.size > best.size) {
			best = k
		}
	}
	return best
}

// shorten cuts excess bytes or more from n, at one place, from the end: the largest array of two
// or more items loses items; failing that, the longest string (of more than minCut bytes) is
// shortened; failing that, the largest array of one item loses it. It reports what it cut, by
// path from n, and false when nothing is left to cut. Sizes on the path are updated. The values
// fixed are not cut, though an array's items may be shortened.
func (n *jnode) shorten(excess int, fixed ...*jnode) (cut, bool) {
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
		if r := rank(x); !slices.Contains(fixed, x) && (r > bestRank || (r == bestRank && r > 0 && x.size > best.size)) {
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
		// The string's encoding may hold escapes: cut in proportion, then to a whole character,
		// and shorter again until the encoding is excess bytes shorter (or the string is gone).
		want := len(best.raw) - excess
		keep := max(want-len(ellipsis)-2, 0) * len(s) / len(best.raw)
		for {
			for keep > 0 && !utf8.RuneStart(s[keep]) {
				keep--
			}
			raw := quote(s[:keep] + ellipsis)
			if over := len(raw) - want; over > 0 && keep > 0 {
				keep = max(keep-over, 0)
				continue
			}
			best.raw = raw
			break
		}
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
