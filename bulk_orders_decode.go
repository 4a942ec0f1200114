package hostednumbers

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// This file decodes a bulk hosting order in one pass over the response,
// without reflection and without encoding/json's validating pre-scan. A
// fetch of 10 000 orders is 3.7 MB of JSON, and decoding it with
// encoding/json was three quarters of the SDK's CPU time for the call.
//
// The result is exactly what encoding/json produced with the earlier
// tagged types (decode_fuzz_test.go checks this on every fixture and on
// random input): member names match exactly or, failing that, without
// regard to case as encoding/json folds them; unknown members are skipped
// but still checked to be JSON; null leaves a plain string unchanged and
// makes a NullString invalid; a member given twice decodes twice, an array
// onto the elements already there; count is a string or a number; group
// and request statuses fold (pending_loa is pending-loa, processed is
// PROCESSED). Input that is not JSON, or not the types the order has, is
// an error.

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// Member names, by the index the decoder switches on.
var (
	orderMembers = [...]string{
		"bulk_hosting_sid", "request_status", "friendly_name", "notification_email",
		"date_created", "date_completed", "url", "total_count", "results",
	}
	groupMembers = [...]string{"order_status", "count", "get_more_info", "orders"}
	entryMembers = [...]string{
		"hosting_order_sid", "phone_number", "account_sid", "failure_reason",
		"next_step", "url", "email", "signing_document_sid",
	}
)

// resultGroupWire is one result group as it is being decoded: count is
// kept as the raw JSON value (a slice of the input) until the group is
// complete.
type resultGroupWire struct {
	status NullString
	count  []byte
	more   NullString
	orders []BulkOrderResult
}

// decodeInto converts the group, stamping its status on its orders.
func (w *resultGroupWire) decodeInto(g *ResultGroup) error {
	count, err := decodeCount(w.count)
	if err != nil {
		return err
	}
	status := ParseOrderStatus(w.status.String)
	for i := range w.orders {
		w.orders[i].Status = status
	}
	*g = ResultGroup{
		OrderStatus:    status,
		RawOrderStatus: w.status.String,
		Count:          count,
		GetMoreInfo:    w.more,
		Orders:         w.orders,
	}
	return nil
}

// decodeCount is parseCount without an allocation for the usual forms: no
// count, null, or a JSON number or string of a few plain digits.
func decodeCount(raw []byte) (int, error) {
	digits := raw
	if len(digits) >= 2 && digits[0] == '"' && digits[len(digits)-1] == '"' {
		digits = digits[1 : len(digits)-1]
	}
	switch {
	case len(raw) == 0:
		return 0, nil
	case len(digits) == 0 || len(digits) > 9:
		return parseCount(raw)
	}
	n := 0
	for _, c := range digits {
		if !isDigit(c) {
			return parseCount(raw)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// decodeJSON is the client's decoder for a create or fetch response: the
// order with its groups, converted once the whole document is read.
func (w *bulkOrderWire) decodeJSON(data []byte) error {
	d := decoder{data: data}
	var groups []resultGroupWire
	if err := d.document(func() error { return d.order(&w.BulkHostedNumberOrder, &groups) }); err != nil {
		return err
	}
	if groups != nil {
		results := make([]ResultGroup, len(groups))
		for i := range groups {
			if err := groups[i].decodeInto(&results[i]); err != nil {
				return err
			}
		}
		w.Results = results
	}
	return nil
}

// UnmarshalJSON decodes an order as encoding/json would decode its fields,
// in a single pass.
func (o *BulkHostedNumberOrder) UnmarshalJSON(data []byte) error {
	d := decoder{data: data}
	return d.document(func() error { return d.order(o, nil) })
}

// UnmarshalJSON decodes a group, accepting count as a string or a number
// and stamping the group's status on each of its orders.
func (g *ResultGroup) UnmarshalJSON(data []byte) error {
	d := decoder{data: data}
	var w resultGroupWire
	err := d.document(func() error {
		switch d.peek() {
		case 'n':
			return d.literal("null")
		case '{':
			return d.group(&w, -1)
		}
		return d.skipTyped("result group", "an object", typeGroup)
	})
	if err != nil {
		return err
	}
	return w.decodeInto(g)
}

// decoder reads one JSON document from data.
type decoder struct {
	data  []byte
	pos   int
	depth int
	// last holds the most recent value of each order entry member: an
	// account SID or e-mail address repeated over thousands of orders is
	// then one string, not thousands.
	last [len(entryMembers)]string
	// chunks are where an orders array is decoded before it is copied to
	// a slice of its exact length: chunk k holds firstChunk<<k orders, so
	// they grow without copying, and they are reused for every array of
	// the document, so they grow only with the largest one.
	chunks [][]BulkOrderResult
}

// firstChunk is the length of the decoder's first chunk of orders.
const firstChunk = 4

// chunkOf returns the chunk and the index in it of order i: chunk k starts
// at firstChunk*(2^k - 1).
func chunkOf(i int) (k, j int) {
	k = bits.Len(uint(i/firstChunk+1)) - 1
	return k, i - firstChunk*(1<<k-1)
}

// decodeError is JSON that is not the order the API documents: bad syntax
// (with its offset) or a member of the wrong type.
type decodeError struct {
	msg    string
	offset int
}

func (e *decodeError) Error() string {
	return e.msg + " (offset " + strconv.Itoa(e.offset) + ")"
}

func (d *decoder) syntaxError(msg string) error {
	return &decodeError{msg: "invalid JSON: " + msg, offset: d.pos}
}

func (d *decoder) unexpected(context string) error {
	if d.pos >= len(d.data) {
		return &decodeError{msg: "invalid JSON: unexpected end of input", offset: d.pos}
	}
	return d.syntaxError("invalid character " + quoteChar(d.data[d.pos]) + " " + context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	if c >= utf8.RuneSelf {
		s = strconv.Quote(string([]byte{c}))
	}
	return "'" + s[1:len(s)-1] + "'"
}

// typeError reports a value of the wrong type at start, naming the member.
// Where encoding/json reported a *json.UnmarshalTypeError (every target but
// a NullString, whose own UnmarshalJSON refuses the value), so does this,
// so that errors.As finds it as before.
func (d *decoder) typeError(start int, member string, want string, target reflect.Type) error {
	if target != nil {
		return &json.UnmarshalTypeError{Value: jsonValueName(d.data[start]), Type: target, Offset: int64(start), Struct: "BulkHostedNumberOrder", Field: member}
	}
	return &decodeError{msg: member + ": want " + want + ", got " + kindOf(d.data[start]), offset: start}
}

// jsonValueName names a JSON value's kind as json.UnmarshalTypeError does.
func jsonValueName(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// Types named in *json.UnmarshalTypeError.
var (
	typeString  = reflect.TypeFor[string]()
	typeInt     = reflect.TypeFor[int]()
	typeOrder   = reflect.TypeFor[BulkHostedNumberOrder]()
	typeGroup   = reflect.TypeFor[ResultGroup]()
	typeGroups  = reflect.TypeFor[[]ResultGroup]()
	typeEntry   = reflect.TypeFor[BulkOrderResult]()
	typeEntries = reflect.TypeFor[[]BulkOrderResult]()
)

func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// document decodes the one value data holds with value, which finds it
// at d.pos after any white space, and checks nothing but white space
// follows it.
func (d *decoder) document(value func() error) error {
	d.space()
	if err := value(); err != nil {
		return err
	}
	d.space()
	if d.pos < len(d.data) {
		return d.unexpected("after top-level value")
	}
	return nil
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntaxError("exceeded max depth")
	}
	return nil
}

// object reads the object at d.pos, calling member with each member's
// index in names (-1 for a name not listed) once d.pos is at its value,
// which member must consume.
func (d *decoder) object(names []string, member func(i int) error) error {
	d.pos++ // {
	if err := d.enter(); err != nil {
		return err
	}
	d.space()
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	hint := 0
	for {
		if d.peek() != '"' {
			return d.unexpected("looking for beginning of object key string")
		}
		keyStart := d.pos
		key, escaped, nonASCII, err := d.str()
		if err != nil {
			return err
		}
		i := d.match(names, key, !escaped && !nonASCII, keyStart, hint)
		if i >= 0 {
			hint = i + 1
		}
		d.space()
		if d.peek() != ':' {
			return d.unexpected("after object key")
		}
		d.pos++
		d.space()
		if err := member(i); err != nil {
			return err
		}
		d.space()
		switch d.peek() {
		case ',':
			d.pos++
			d.space()
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("after object key:value pair")
		}
	}
}

// match returns the index of key in names: an exact match first, else
// one equal under encoding/json's case folding; -1 if none.
func (d *decoder) match(names []string, key []byte, plain bool, keyStart, hint int) int {
	if len(names) == 0 {
		return -1
	}
	if !plain {
		// Escapes or non-ASCII: compare the name as encoding/json
		// would unquote it.
		var s string
		if json.Unmarshal(d.data[keyStart:d.pos], &s) != nil {
			return -1
		}
		key = []byte(s)
	}
	if hint < len(names) && string(key) == names[hint] {
		return hint
	}
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for i, n := range names {
		if foldEqual(key, n) {
			return i
		}
	}
	return -1
}

// foldEqual reports whether key folds to the ASCII name the way
// encoding/json folds member names: ASCII letters to upper case, any other
// rune to the smallest rune of its Unicode simple-folding orbit (so the
// Kelvin sign is K, and the long s is S).
func foldEqual(key []byte, name string) bool {
	j := 0
	for i := 0; i < len(key); {
		var r rune
		if c := key[i]; c < utf8.RuneSelf {
			r = rune(c)
			i++
		} else {
			var n int
			r, n = utf8.DecodeRune(key[i:])
			r = foldRune(r)
			i += n
		}
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		if j >= len(name) || r >= utf8.RuneSelf {
			return false
		}
		c := name[j]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if r != rune(c) { // r < utf8.RuneSelf: one byte
			return false
		}
		j++
	}
	return j == len(name)
}

// foldRune returns the smallest rune of r's simple-folding orbit, as
// encoding/json does.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// str reads the string at d.pos and returns its raw content, checked to
// be valid JSON, and whether it has escapes or bytes outside ASCII.
func (d *decoder) str() (raw []byte, escaped, nonASCII bool, err error) {
	data := d.data
	start := d.pos + 1
	i := start
	for {
		// Skip eight bytes at a time while none of them needs a look.
		for i+8 <= len(data) && !special8(binary.LittleEndian.Uint64(data[i:])) {
			i += 8
		}
		for i < len(data) && plainByte(data[i]) {
			i++
		}
		if i >= len(data) {
			d.pos = len(data)
			return nil, false, false, d.unexpected("")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return data[start:i], escaped, nonASCII, nil
		case c == '\\':
			escaped = true
			i++
			if i >= len(data) {
				d.pos = i
				return nil, false, false, d.unexpected("")
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 1; k <= 4; k++ {
					if i+k >= len(data) {
						d.pos = i + k
						return nil, false, false, d.unexpected("")
					}
					if !isHex(data[i+k]) {
						d.pos = i + k
						return nil, false, false, d.unexpected("in \\u hexadecimal character escape")
					}
				}
				i += 4
			default:
				d.pos = i
				return nil, false, false, d.unexpected("in string escape code")
			}
			i++
		case c < 0x20:
			d.pos = i
			return nil, false, false, d.unexpected("in string literal")
		default: // c >= utf8.RuneSelf
			nonASCII = true
			i++
		}
	}
}

// plainByte reports whether c stands for itself inside a JSON string and
// is ASCII.
func plainByte(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf }

// special8 reports whether any of the eight bytes in w is not plainByte:
// below 0x20, a quote, a backslash or above 0x7f.
func special8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	below := (w - 0x20*lo) & ^w & hi
	return (below | zero(w^('"'*lo)) | zero(w^('\\'*lo)) | w&hi) != 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// stringValue reads the string at d.pos as encoding/json unquotes it:
// escapes decoded, invalid UTF-8 replaced.
func (d *decoder) stringValue() (string, error) {
	start := d.pos
	raw, escaped, nonASCII, err := d.str()
	if err != nil {
		return "", err
	}
	if !escaped && (!nonASCII || utf8.Valid(raw)) {
		return string(raw), nil
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", err
	}
	return s, nil
}

// internedString is stringValue reusing the string last decoded into the
// same entry member when the bytes are the same.
func (d *decoder) internedString(slot int) (string, error) {
	start := d.pos
	raw, escaped, nonASCII, err := d.str()
	if err != nil {
		return "", err
	}
	if !escaped && (!nonASCII || utf8.Valid(raw)) {
		if string(raw) == d.last[slot] {
			return d.last[slot], nil
		}
		s := string(raw)
		d.last[slot] = s
		return s, nil
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", err
	}
	return s, nil
}

// literal consumes the literal word at d.pos (true, false or null).
func (d *decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.unexpected("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		d.pos++
	}
	return nil
}

// number consumes the number at d.pos and returns it.
func (d *decoder) number() ([]byte, error) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case '1' <= c && c <= '9':
		for d.pos++; isDigit(d.peek()); d.pos++ {
		}
	default:
		return nil, d.unexpected("in numeric literal")
	}
	if d.peek() == '.' {
		d.pos++
		if !isDigit(d.peek()) {
			return nil, d.unexpected("after decimal point in numeric literal")
		}
		for d.pos++; isDigit(d.peek()); d.pos++ {
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !isDigit(d.peek()) {
			return nil, d.unexpected("in exponent of numeric literal")
		}
		for d.pos++; isDigit(d.peek()); d.pos++ {
		}
	}
	return d.data[start:d.pos], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip consumes any value at d.pos, checking that it is JSON.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(nil, func(int) error { return d.skip() })
	case c == '[':
		return d.array(func(int) error { return d.skip() })
	case c == '"':
		_, _, _, err := d.str()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || isDigit(c):
		_, err := d.number()
		return err
	}
	return d.unexpected("looking for beginning of value")
}

// array reads the array at d.pos, calling element with each element's
// index; element must consume the value. It returns the element count.
func (d *decoder) array(element func(i int) error) error {
	_, err := d.arrayN(element)
	return err
}

func (d *decoder) arrayN(element func(i int) error) (int, error) {
	d.pos++ // [
	if err := d.enter(); err != nil {
		return 0, err
	}
	d.space()
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return 0, nil
	}
	for i := 0; ; i++ {
		if err := element(i); err != nil {
			return 0, err
		}
		d.space()
		switch d.peek() {
		case ',':
			d.pos++
			d.space()
		case ']':
			d.pos++
			d.depth--
			return i + 1, nil
		default:
			return 0, d.unexpected("after array element")
		}
	}
}

// skipTyped consumes a value of the wrong type for member and returns the
// type error, unless the value itself is not JSON.
func (d *decoder) skipTyped(member, want string, target reflect.Type) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	return d.typeError(start, member, want, target)
}

// setString decodes a JSON string into s; null leaves s as it is.
func (d *decoder) setString(s *string, member string) error {
	switch d.peek() {
	case '"':
		v, err := d.stringValue()
		*s = v
		return err
	case 'n':
		return d.literal("null")
	}
	return d.skipTyped(member, "a string", typeString)
}

// setNullString decodes a JSON string or null into n.
func (d *decoder) setNullString(n *NullString, member string) error {
	switch d.peek() {
	case '"':
		v, err := d.stringValue()
		*n = NullString{String: v, Valid: true}
		return err
	case 'n':
		*n = NullString{}
		return d.literal("null")
	}
	return d.skipTyped(member, "a string or null", nil)
}

// rawValue consumes any value and returns its bytes.
func (d *decoder) rawValue() ([]byte, error) {
	start := d.pos
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos], nil
}

// order decodes the order object (or null) at d.pos into o. With groups
// non-nil, results are decoded into *groups as the client's wire form;
// with groups nil, into o.Results as ResultGroup values.
func (d *decoder) order(o *BulkHostedNumberOrder, groups *[]resultGroupWire) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		return d.skipTyped("order", "an object", typeOrder)
	}
	return d.object(orderMembers[:], func(i int) error {
		switch i {
		case 0:
			return d.setString(&o.BulkHostingSID, "bulk_hosting_sid")
		case 1:
			// Folded as RequestStatus.UnmarshalJSON folds it: null leaves
			// the status as it was.
			if err := d.setString((*string)(&o.RequestStatus), "request_status"); err != nil {
				return err
			}
			o.RequestStatus = ParseRequestStatus(string(o.RequestStatus))
			return nil
		case 2:
			return d.setNullString(&o.FriendlyName, "friendly_name")
		case 3:
			return d.setNullString(&o.NotificationEmail, "notification_email")
		case 4, 5:
			raw, err := d.rawValue()
			if err != nil {
				return err
			}
			t := &o.DateCreated
			if i == 5 {
				t = &o.DateCompleted
			}
			return t.UnmarshalJSON(raw)
		case 6:
			return d.setNullString(&o.URL, "url")
		case 7:
			return d.setInt(&o.TotalCount, "total_count")
		case 8:
			if groups != nil {
				return d.wireGroups(groups)
			}
			return d.resultGroups(&o.Results)
		}
		return d.skip()
	})
}

// setInt decodes a JSON integer into n; null leaves n as it is. Like
// encoding/json, a fraction, an exponent or a value too large for int is
// an error.
func (d *decoder) setInt(n *int, member string) error {
	switch c := d.peek(); {
	case c == 'n':
		return d.literal("null")
	case c != '-' && !isDigit(c):
		return d.skipTyped(member, "a whole number", typeInt)
	}
	start := d.pos
	num, err := d.number()
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(string(num), 10, strconv.IntSize)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "number " + string(num), Type: typeInt, Offset: int64(start), Struct: "BulkHostedNumberOrder", Field: member}
	}
	*n = int(v)
	return nil
}

// wireGroups decodes the results array into *gs the way encoding/json
// decodes into a slice: elements are decoded onto those already there (a
// member given twice), null leaves an element as it is, and an empty
// array makes an empty, non-nil slice.
func (d *decoder) wireGroups(gs *[]resultGroupWire) error {
	switch d.peek() {
	case 'n':
		*gs = nil
		return d.literal("null")
	case '[':
	default:
		return d.skipTyped("results", "an array", typeGroups)
	}
	s := *gs
	n, err := d.arrayN(func(i int) error {
		s = growTo(s, i)
		switch d.peek() {
		case 'n':
			return d.literal("null")
		case '{':
			return d.group(&s[i], i)
		}
		return d.skipTyped("results["+strconv.Itoa(i)+"]", "an object", typeGroup)
	})
	if err != nil {
		return err
	}
	*gs = truncate(s, n)
	return nil
}

// resultGroups decodes the results array into *rs as ResultGroup values,
// each decoded afresh as ResultGroup.UnmarshalJSON does.
func (d *decoder) resultGroups(rs *[]ResultGroup) error {
	switch d.peek() {
	case 'n':
		*rs = nil
		return d.literal("null")
	case '[':
	default:
		return d.skipTyped("results", "an array", typeGroups)
	}
	s := *rs
	n, err := d.arrayN(func(i int) error {
		s = growTo(s, i)
		var w resultGroupWire
		switch d.peek() {
		case 'n':
			if err := d.literal("null"); err != nil {
				return err
			}
		case '{':
			if err := d.group(&w, i); err != nil {
				return err
			}
		default:
			return d.skipTyped("results["+strconv.Itoa(i)+"]", "an object", typeGroup)
		}
		return w.decodeInto(&s[i])
	})
	if err != nil {
		return err
	}
	*rs = truncate(s, n)
	return nil
}

// growTo makes s long enough to hold element i, as encoding/json does:
// within the capacity, elements left from an earlier decode are reused.
// Beyond it, the capacity doubles (append would grow a large slice by a
// quarter at a time, allocating about five times the final slice in all),
// so an array of n elements allocates room for at most 4n.
func growTo[T any](s []T, i int) []T {
	if i >= cap(s) {
		grown := make([]T, i+1, max(2*cap(s), i+1, 4))
		copy(grown, s[:i])
		return grown
	}
	if i >= len(s) {
		return s[:i+1]
	}
	return s
}

// truncate ends an array decode of n elements into s.
func truncate[T any](s []T, n int) []T {
	if n == 0 {
		return []T{}
	}
	return s[:n]
}

// group decodes a result group object at d.pos into w (index i of
// results, -1 for a group decoded on its own).
func (d *decoder) group(w *resultGroupWire, index int) error {
	return d.object(groupMembers[:], func(i int) error {
		switch i {
		case 0:
			return d.setNullString(&w.status, "order_status")
		case 1:
			raw, err := d.rawValue()
			w.count = raw
			return err
		case 2:
			return d.setNullString(&w.more, "get_more_info")
		case 3:
			return d.orders(w, index)
		}
		return d.skip()
	})
}

// orders decodes a group's orders array into w.orders. The orders are
// decoded into the decoder's chunks and then copied into a slice of their
// exact length, never sized from the group's count: a count is a number
// the server wrote, and reserving room from it would let one number
// (repeated over empty arrays) allocate out of all proportion to the
// response. As encoding/json does, an array decoded over an earlier one
// (orders given twice) decodes onto the elements already there.
func (d *decoder) orders(w *resultGroupWire, group int) error {
	switch d.peek() {
	case 'n':
		w.orders = nil
		return d.literal("null")
	case '[':
	default:
		return d.skipTyped(d.groupPath(group)+"orders", "an array", typeEntries)
	}
	prev := w.orders[:cap(w.orders)]
	n, err := d.arrayN(func(i int) error {
		k, j := chunkOf(i)
		if k == len(d.chunks) {
			d.chunks = append(d.chunks, make([]BulkOrderResult, firstChunk<<k))
		}
		o := &d.chunks[k][j]
		if i < len(prev) {
			*o = prev[i]
		} else {
			*o = BulkOrderResult{} // the chunk holds an earlier array's order
		}
		switch d.peek() {
		case 'n':
			return d.literal("null")
		case '{':
			return d.entry(o, group, i)
		}
		return d.skipTyped(d.entryPath(group, i), "an object", typeEntry)
	})
	if err != nil {
		return err
	}
	out := prev
	switch {
	case n == 0:
		w.orders = []BulkOrderResult{}
		return nil
	case n > len(prev):
		out = make([]BulkOrderResult, n)
	}
	out = out[:n]
	for k, at := 0, 0; at < n; k++ {
		at += copy(out[at:], d.chunks[k])
	}
	w.orders = out
	return nil
}

func (d *decoder) groupPath(group int) string {
	if group < 0 {
		return ""
	}
	return "results[" + strconv.Itoa(group) + "]."
}

func (d *decoder) entryPath(group, i int) string {
	return d.groupPath(group) + "orders[" + strconv.Itoa(i) + "]"
}

// entry decodes one order of a group into o.
func (d *decoder) entry(o *BulkOrderResult, group, index int) error {
	return d.object(entryMembers[:], func(i int) error {
		var s *string
		var ns *NullString
		switch i {
		case 0:
			s = &o.HostingOrderSID
		case 1:
			s = &o.PhoneNumber
		case 2:
			s = &o.AccountSID
		case 3:
			ns = &o.FailureReason
		case 4:
			ns = &o.NextStep
		case 5:
			s = &o.URL
		case 6:
			s = &o.Email
		case 7:
			ns = &o.SigningDocumentSID
		default:
			return d.skip()
		}
		switch c := d.peek(); {
		case c == '"':
			v, err := d.internedString(i)
			if s != nil {
				*s = v
			} else {
				*ns = NullString{String: v, Valid: true}
			}
			return err
		case c == 'n':
			if ns != nil {
				*ns = NullString{}
			}
			return d.literal("null")
		case s != nil:
			return d.skipTyped(d.entryPath(group, index)+"."+entryMembers[i], "a string", typeString)
		}
		return d.skipTyped(d.entryPath(group, index)+"."+entryMembers[i], "a string or null", nil)
	})
}
