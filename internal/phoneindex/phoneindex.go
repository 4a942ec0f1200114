// Package phoneindex maps phone numbers to values in a few bytes a
// number, for stores that index millions of numbers in memory: an E.164
// number is kept as its digits in a uint64, any other text as itself, and
// each distinct value is stored once and named by a 32-bit id (every
// number one eligibility check found eligible shares one value).
package phoneindex

import (
	"iter"
	"slices"
	"strconv"
)

// Index maps phone numbers to values of type V. The zero Index is not
// ready: use New. It is not safe for concurrent use.
//
// E.164 numbers are kept in two sorted arrays (their digits, and the id
// of their value: 12 bytes a number) and a map of the numbers added since
// the arrays were last merged, at most a quarter of them, so that a
// million numbers take about 20 bytes each, and a number added costs a
// constant amount of work on average.
type Index[V comparable] struct {
	keys   []uint64
	ids    []uint32
	recent map[uint64]uint32
	byText map[string]uint32
	values []V
	idOf   map[V]uint32
}

// minRecent is the most numbers the map holds before it is merged into
// the arrays, when that is more than a quarter of the arrays.
const minRecent = 4096

// New returns an empty Index.
func New[V comparable]() *Index[V] {
	return &Index[V]{recent: make(map[uint64]uint32), byText: make(map[string]uint32), idOf: make(map[V]uint32)}
}

// Digits is an E.164 number's digits as one number, and false for
// anything else (the leading digit is never 0, so no two numbers differ
// only in leading zeros).
func Digits(phone string) (uint64, bool) {
	if len(phone) < 2 || len(phone) > 16 || phone[0] != '+' || phone[1] == '0' {
		return 0, false
	}
	var n uint64
	for i := 1; i < len(phone); i++ {
		c := phone[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// Set maps phone to v, replacing its earlier value.
func (x *Index[V]) Set(phone string, v V) {
	id, ok := x.idOf[v]
	if !ok {
		id = uint32(len(x.values)) //nolint:gosec // at most one value per number set, far below 2^32
		x.values = append(x.values, v)
		x.idOf[v] = id
	}
	d, ok := Digits(phone)
	if !ok {
		x.byText[phone] = id
		return
	}
	if i, found := slices.BinarySearch(x.keys, d); found {
		x.ids[i] = id
		return
	}
	x.recent[d] = id
	if len(x.recent) > max(minRecent, len(x.keys)/4) {
		x.merge()
	}
}

// merge moves the numbers of the map into the arrays.
func (x *Index[V]) merge() {
	add := make([]uint64, 0, len(x.recent))
	for d := range x.recent {
		add = append(add, d)
	}
	slices.Sort(add)
	keys := make([]uint64, 0, len(x.keys)+len(add))
	ids := make([]uint32, 0, len(x.keys)+len(add))
	i, j := 0, 0
	for i < len(x.keys) || j < len(add) {
		if j == len(add) || i < len(x.keys) && x.keys[i] < add[j] {
			keys, ids = append(keys, x.keys[i]), append(ids, x.ids[i])
			i++
			continue
		}
		keys, ids = append(keys, add[j]), append(ids, x.recent[add[j]])
		j++
	}
	x.keys, x.ids = keys, ids
	x.recent = make(map[uint64]uint32)
}

// Get returns phone's value and whether it has one.
func (x *Index[V]) Get(phone string) (V, bool) {
	var id uint32
	var ok bool
	if d, isE164 := Digits(phone); isE164 {
		if id, ok = x.recent[d]; !ok {
			var i int
			if i, ok = slices.BinarySearch(x.keys, d); ok {
				id = x.ids[i]
			}
		}
	} else {
		id, ok = x.byText[phone]
	}
	if !ok {
		var zero V
		return zero, false
	}
	return x.values[id], true
}

// Len is how many phone numbers have a value.
func (x *Index[V]) Len() int { return len(x.keys) + len(x.recent) + len(x.byText) }

// All yields every phone number and its value, in no particular order.
func (x *Index[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for i, d := range x.keys {
			if !yield("+"+strconv.FormatUint(d, 10), x.values[x.ids[i]]) {
				return
			}
		}
		for d, id := range x.recent {
			if !yield("+"+strconv.FormatUint(d, 10), x.values[id]) {
				return
			}
		}
		for phone, id := range x.byText {
			if !yield(phone, x.values[id]) {
				return
			}
		}
	}
}

// Shared is how many distinct values the index holds.
func (x *Index[V]) Shared() int { return len(x.values) }
