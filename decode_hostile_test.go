package hostednumbers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Hostile bodies: the decoder's memory must follow the bytes it is given
// and what it returns, never a number the server wrote.

// rep joins n copies of s with commas.
func rep(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+",", n), ",")
}

// hostileBodies builds, for a size factor k, documents that try to make
// the decoder allocate more than the response: counts in the billions
// over empty or tiny arrays, many arrays, deep and wide nesting, escapes.
func hostileBodies(k int) map[string][]byte {
	bodies := map[string]string{
		"one huge count over many empty orders arrays": `{"results":[{"count":"999999999",` + rep(`"orders":[]`, 1000*k) + `}]}`,
		"huge count after the orders arrays":           `{"results":[{` + rep(`"orders":[]`, 1000*k) + `,"count":999999999}]}`,
		"many groups with huge counts, empty orders":   `{"results":[` + rep(`{"count":999999999,"orders":[]}`, 500*k) + `]}`,
		"many groups with huge counts, one order each": `{"results":[` + rep(`{"count":"999999999","orders":[{}]}`, 500*k) + `]}`,
		"results repeated with huge counts":            `{` + rep(`"results":[{"count":999999999,"orders":[]}]`, 500*k) + `}`,
		"empty orders":                                 `{"results":[{"orders":[` + rep(`{}`, 5000*k) + `]}]}`,
		"null orders":                                  `{"results":[{"orders":[` + rep(`null`, 5000*k) + `]}]}`,
		"empty groups":                                 `{"results":[` + rep(`{}`, 5000*k) + `]}`,
		"null groups":                                  `{"results":[` + rep(`null`, 5000*k) + `]}`,
		"deep arrays":                                  `{"x":` + strings.Repeat("[", 1000*k) + strings.Repeat("]", 1000*k) + `}`,
		"deep objects":                                 `{"x":` + strings.Repeat(`{"a":`, 1000*k) + "1" + strings.Repeat("}", 1000*k) + `}`,
		"wide unknown array":                           `{"x":[` + rep(`1`, 10000*k) + `]}`,
		"wide unknown object":                          `{` + rep(`"x":{}`, 5000*k) + `}`,
		"escaped member names":                         `{` + rep(`"\u0062ulk":1`, 2000*k) + `}`,
		"escaped strings in orders":                    `{"results":[{"orders":[{` + rep(`"email":"\u0061"`, 2000*k) + `}]}]}`,
		"non-ASCII strings in orders":                  `{"results":[{"orders":[` + rep(`{"email":"é"}`, 2000*k) + `]}]}`,
		"dates":                                        `{` + rep(`"date_created":"2023-06-29T15:19:37Z"`, 500*k) + `}`,
		"a realistic fetch":                            string(generatedFetchBody(100*k, false)),
	}
	out := make(map[string][]byte, len(bodies))
	for name, b := range bodies {
		out[name] = []byte(b)
	}
	return out
}

// retainedBytes is the memory a decoded order holds in its slices.
func retainedBytes(o *BulkHostedNumberOrder) int {
	n := cap(o.Results) * int(reflect.TypeFor[ResultGroup]().Size())
	for _, g := range o.Results {
		n += cap(g.Orders) * int(reflect.TypeFor[BulkOrderResult]().Size())
	}
	return n
}

// allocated runs decode runs times and returns the bytes and objects it
// allocated per run.
func allocated(runs int, decode func()) (bytes, objects float64) {
	decode() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		decode()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs), float64(after.Mallocs-before.Mallocs) / float64(runs)
}

// The allocation budget: bytesPerInputByte for each byte of the response,
// plus growth room for the slices the result keeps (at most four times
// their final size: growTo doubles), plus a constant.
const (
	bytesPerInputByte = 32
	objectsPerByte    = 1.0 / 3
	allocSlack        = 64 << 10
)

func TestDecode_AllocationFollowsTheResponseNotItsCounts(t *testing.T) {
	for _, k := range []int{1, 8} {
		for name, body := range hostileBodies(k) {
			t.Run(fmt.Sprintf("%s/x%d", name, k), func(t *testing.T) {
				var keep BulkHostedNumberOrder
				decoders := map[string]func(){
					"client": func() {
						var w bulkOrderWire
						_ = decodeBody(body, &w)
						keep = w.BulkHostedNumberOrder
					},
					"UnmarshalJSON": func() {
						var o BulkHostedNumberOrder
						_ = o.UnmarshalJSON(body)
						keep = o
					},
				}
				for which, decode := range decoders {
					bytes, _ := allocated(3, decode)
					budget := float64(bytesPerInputByte*len(body) + 4*retainedBytes(&keep) + allocSlack)
					if bytes > budget {
						t.Errorf("%s: %d-byte body allocated %.0f bytes (%.1f per input byte; the result keeps %d); budget %.0f",
							which, len(body), bytes, bytes/float64(len(body)), retainedBytes(&keep), budget)
					}
					objects := testing.AllocsPerRun(3, decode)
					if objects > objectsPerByte*float64(len(body))+64 {
						t.Errorf("%s: %d-byte body made %.0f allocations; budget one per %.0f bytes", which, len(body), objects, 1/objectsPerByte)
					}
				}
			})
		}
	}
}

func TestDecode_ACountNeverReservesMemory(t *testing.T) {
	// The same group with a count of 1 and of a billion allocates the same.
	small := []byte(`{"results":[{"count":"1",` + rep(`"orders":[]`, 2000) + `}]}`)
	huge := []byte(`{"results":[{"count":"999999999",` + rep(`"orders":[]`, 2000) + `}]}`)
	decode := func(body []byte) func() {
		return func() {
			var w bulkOrderWire
			if err := decodeBody(body, &w); err != nil {
				t.Fatal(err)
			}
		}
	}
	smallBytes, _ := allocated(3, decode(small))
	hugeBytes, _ := allocated(3, decode(huge))
	if hugeBytes > smallBytes+1024 {
		t.Errorf("count 999999999 allocated %.0f bytes, count 1 %.0f: the count drove an allocation", hugeBytes, smallBytes)
	}
	var w bulkOrderWire
	if err := decodeBody(huge, &w); err != nil {
		t.Fatal(err)
	}
	if g := w.Results[0]; g.Count != 999999999 || g.Orders == nil || len(g.Orders) != 0 || cap(g.Orders) != 0 {
		t.Errorf("group decoded as count %d, %d orders (cap %d); want the count kept and an empty, unreserved slice", g.Count, len(g.Orders), cap(g.Orders))
	}
}

// A member name matches a field's exactly or, failing that, folded as
// encoding/json folds it: never a prefix, an extension or an empty name.
func TestDecode_FoldedMemberNamesNeverMatchAPrefixOrAnEmptyName(t *testing.T) {
	const sid = "BHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	impostors := []string{"", "b", "bulk", "bulk_hosting_si", "BULK_HOSTING_SI", "bulk_hosting_sidx", "bulk_hosting_sid_", " bulk_hosting_sid", "bulk_hosting_sid\u0000", "\u0062ulk"}
	for _, name := range impostors {
		body := []byte(`{"bulk_hosting_sid":"` + sid + `",` + quotedJSON(name) + `:"BHbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","results":[{"order_status":"failed",` +
			quotedJSON(strings.TrimSuffix(name, "_hosting_sid")) + `:"x","orders":[{"email":"a@example.com",` + quotedJSON(name) + `:"b@example.com"}]}]}`)
		var w bulkOrderWire
		if err := decodeBody(body, &w); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if w.BulkHostingSID != sid {
			t.Errorf("member %q overwrote bulk_hosting_sid: %q", name, w.BulkHostingSID)
		}
		if got := w.Results[0].RawOrderStatus; got != "failed" {
			t.Errorf("member %q overwrote order_status: %q", name, got)
		}
		if got := w.Results[0].Orders[0].Email; got != "a@example.com" {
			t.Errorf("member %q overwrote an order's email: %q", name, got)
		}
		checkSameDecode(t, body)
	}
	for _, tt := range []struct {
		key, name string
		want      bool
	}{
		{"", "url", false}, {"u", "url", false}, {"ur", "url", false}, {"urls", "url", false},
		{"URL", "url", true}, {"uRl", "url", true}, {"ur\u212a", "urk", true}, {"\u017frl", "srl", true},
	} {
		if got := foldEqual([]byte(tt.key), tt.name); got != tt.want {
			t.Errorf("foldEqual(%q, %q) = %v, want %v", tt.key, tt.name, got, tt.want)
		}
	}
}

// Every JSON-tagged field of every type the hand decoder fills must be
// decoded: adding a field to BulkHostedNumberOrder, ResultGroup or
// BulkOrderResult fails this test until the decoder (and, where it has a
// copy, the fuzz test's reference) handles it.

// decodedTypes are the types bulk_orders_decode.go fills by hand, with its
// member table for each.
var decodedTypes = []struct {
	t       reflect.Type
	members []string
}{
	{reflect.TypeFor[BulkHostedNumberOrder](), orderMembers[:]},
	{reflect.TypeFor[ResultGroup](), groupMembers[:]},
	{reflect.TypeFor[BulkOrderResult](), entryMembers[:]},
}

// jsonName is a field's member name, "" for a field encoding/json skips.
func jsonName(t *testing.T, typ reflect.Type, f reflect.StructField) string {
	t.Helper()
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		t.Fatalf("%s.%s has no json tag: give it its member name, or json:\"-\"", typ.Name(), f.Name)
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		t.Fatalf("%s.%s: tag %q names no member", typ.Name(), f.Name, tag)
	}
	return name
}

func memberNames(t *testing.T, typ reflect.Type) []string {
	var names []string
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.IsExported() {
			if name := jsonName(t, typ, f); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

func TestDecode_MemberTablesListEveryTaggedField(t *testing.T) {
	for _, dt := range decodedTypes {
		want := memberNames(t, dt.t)
		got := slices.Clone(dt.members)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the decoder's member table is %v, the type's json tags are %v", dt.t.Name(), got, want)
		}
	}
	// The fuzz test's reference types are copies too.
	ref := append(memberNames(t, reflect.TypeFor[refOrderFields]()), "results")
	order := memberNames(t, reflect.TypeFor[BulkHostedNumberOrder]())
	slices.Sort(ref)
	slices.Sort(order)
	if !slices.Equal(ref, order) {
		t.Errorf("refOrderFields (with results) has members %v, BulkHostedNumberOrder %v", ref, order)
	}
	refGroup, group := memberNames(t, reflect.TypeFor[refGroupWire]()), memberNames(t, reflect.TypeFor[ResultGroup]())
	slices.Sort(refGroup)
	slices.Sort(group)
	if !slices.Equal(refGroup, group) {
		t.Errorf("refGroupWire has members %v, ResultGroup %v", refGroup, group)
	}
}

// distinctDocument returns a JSON value for typ with a distinct value in
// every tagged field, and the Go value it must decode to.
func distinctDocument(t *testing.T, typ reflect.Type, seq *int) (any, reflect.Value) {
	t.Helper()
	*seq++
	n := *seq
	want := reflect.New(typ).Elem()
	switch {
	case typ == reflect.TypeFor[NullString]():
		s := fmt.Sprintf("value-%d", n)
		want.Set(reflect.ValueOf(NullString{String: s, Valid: true}))
		return s, want
	case typ == reflect.TypeFor[NullTime]():
		tm := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
		want.Set(reflect.ValueOf(NullTime{Time: tm, Valid: true}))
		return tm.Format(time.RFC3339), want
	case typ.Kind() == reflect.String:
		s := fmt.Sprintf("value-%d", n)
		want.SetString(s)
		return s, want
	case typ.Kind() == reflect.Int:
		want.SetInt(int64(1000 + n))
		return 1000 + n, want
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
		doc, elem := distinctDocument(t, typ.Elem(), seq)
		want.Set(reflect.Append(want, elem))
		return []any{doc}, want
	case typ.Kind() == reflect.Struct:
		doc := map[string]any{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(t, typ, f)
			if name == "" {
				continue
			}
			v, w := distinctDocument(t, f.Type, seq)
			doc[name] = v
			want.Field(i).Set(w)
		}
		return doc, want
	}
	t.Fatalf("no distinct value for type %s: teach distinctDocument", typ)
	return nil, want
}

// sameTaggedFields fails t for every tagged field of want that got lacks.
func sameTaggedFields(t *testing.T, path string, want, got reflect.Value) {
	t.Helper()
	typ := want.Type()
	switch {
	case typ == reflect.TypeFor[NullTime]():
		w, g := want.Interface().(NullTime), got.Interface().(NullTime)
		if w.Valid != g.Valid || !w.Time.Equal(g.Time) {
			t.Errorf("%s: decoded %v, want %v", path, g, w)
		}
	case typ.Kind() == reflect.Struct && typ != reflect.TypeFor[NullString]():
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.IsExported() && jsonName(t, typ, f) != "" {
				sameTaggedFields(t, path+"."+jsonName(t, typ, f), want.Field(i), got.Field(i))
			}
		}
	case typ.Kind() == reflect.Slice:
		if want.Len() != got.Len() {
			t.Errorf("%s: decoded %d elements, want %d", path, got.Len(), want.Len())
			return
		}
		for i := 0; i < want.Len(); i++ {
			sameTaggedFields(t, fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			t.Errorf("%s: decoded %#v, want %#v (is the member decoded?)", path, got.Interface(), want.Interface())
		}
	}
}

func TestDecode_EveryTaggedFieldIsDecoded(t *testing.T) {
	seq := 0
	doc, want := distinctDocument(t, reflect.TypeFor[BulkHostedNumberOrder](), &seq)
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}

	var w bulkOrderWire
	if err := decodeBody(body, &w); err != nil {
		t.Fatalf("client decode: %v", err)
	}
	sameTaggedFields(t, "client", want, reflect.ValueOf(w.BulkHostedNumberOrder))

	var o BulkHostedNumberOrder
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	sameTaggedFields(t, "json.Unmarshal", want, reflect.ValueOf(o))

	groups := doc.(map[string]any)["results"].([]any)
	groupBody, err := json.Marshal(groups[0])
	if err != nil {
		t.Fatal(err)
	}
	var g ResultGroup
	if err := json.Unmarshal(groupBody, &g); err != nil {
		t.Fatalf("ResultGroup: %v", err)
	}
	sameTaggedFields(t, "ResultGroup", want.FieldByName("Results").Index(0), reflect.ValueOf(g))

	checkSameDecode(t, body)
}

// jsonString is s as a JSON string.
func quotedJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestChunkOf_CoversEveryIndexOnce(t *testing.T) {
	next := 0 // the index chunk k's first order must have
	for i := 0; i < 100000; i++ {
		k, j := chunkOf(i)
		size := firstChunk << k
		if j < 0 || j >= size {
			t.Fatalf("chunkOf(%d) = %d, %d: outside chunk %d of %d orders", i, k, j, k, size)
		}
		if j == 0 {
			if i != next {
				t.Fatalf("chunk %d starts at %d, want %d", k, i, next)
			}
			next = i + size
		}
	}
}
