// Package phoneindex maps phone numbers to values in a few bytes a
// number, for stores that index millions of numbers in memory: an E.164
// number is kept as its digits in a uint64, any other text as itself, and
// each distinct value is stored once and named by a 32-bit id (every
// number one eligibility check found eligible shares one value).
package phoneindex

import (
	"iter"
	"strconv"
)

// Index maps phone numbers to values of type V. The zero Index is not
// ready: use New. It is not safe for concurrent use.
type Index[V comparable] struct {
	byDigits map[uint64]uint32
	byText   map[string]uint32
	values   []V
	idOf     map[V]uint32
}

// New returns an empty Index.
func New[V comparable]() *Index[V] {
	return &Index[V]{byDigits: make(map[uint64]uint32), byText: make(map[string]uint32), idOf: make(map[V]uint32)}
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
	if d, ok := Digits(phone); ok {
		x.byDigits[d] = id
	} else {
		x.byText[phone] = id
	}
}

// Get returns phone's value and whether it has one.
func (x *Index[V]) Get(phone string) (V, bool) {
	var id uint32
	var ok bool
	if d, isE164 := Digits(phone); isE164 {
		id, ok = x.byDigits[d]
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
func (x *Index[V]) Len() int { return len(x.byDigits) + len(x.byText) }

// All yields every phone number and its value, in no particular order.
func (x *Index[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for d, id := range x.byDigits {
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
