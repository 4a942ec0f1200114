package csvinput_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hn "github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/csvinput"
)

func TestBoundedReaderLimits(t *testing.T) {
	ctx := context.Background()
	// Lines up to the limit pass, whatever the read sizes.
	r := csvinput.NewReader(ctx, strings.NewReader("1234\n12345\n\n"), 100, 5)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "1234\n12345\n\n", string(data))
	r = csvinput.NewReader(ctx, strings.NewReader("1234\n123456\n"), 100, 5)
	_, err = io.ReadAll(r)
	var le *csvinput.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.Line())
	// A UTF-8 byte order mark is dropped and not part of the digest.
	a := csvinput.NewReader(ctx, strings.NewReader("\ufeffphone_number\n"), 100, 100)
	b := csvinput.NewReader(ctx, strings.NewReader("phone_number\n"), 100, 100)
	da, _ := io.ReadAll(a)
	db, _ := io.ReadAll(b)
	assert.Equal(t, db, da)
	assert.Equal(t, b.Digest(), a.Digest())
	// A context that ends stops the reading.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = io.ReadAll(csvinput.NewReader(cctx, strings.NewReader("x"), 100, 100))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "64 KiB", csvinput.SizeText(64<<10))
	assert.Equal(t, "64 MiB", csvinput.SizeText(64<<20))
	assert.Equal(t, "100 bytes", csvinput.SizeText(100))
}

func TestReadAndValidate(t *testing.T) {
	list, problems := csvinput.Read(strings.NewReader("phone_number,friendly_name\n+14155550101,a\n# note\n+14155550102,b\n+0,c\n+14155550101,d\n"))
	require.NotNil(t, list)
	assert.Equal(t, []int{2, 4, 5, 6}, list.Lines, "comments count as lines")
	require.Len(t, list.Numbers, 4)
	assert.Equal(t, "+14155550102", list.Numbers[1].PhoneNumber)
	var all []string
	for _, p := range problems {
		all = append(all, p.String())
	}
	params := &hn.CreateBulkHostedNumberOrderParams{RequestItems: []hn.RequestItem{{Email: "a@b.c", AddressSID: "AD0123456789abcdef0123456789abcdef", Numbers: list.Numbers}}}
	for _, p := range csvinput.Validate(params, list) {
		all = append(all, p.String())
	}
	assert.Contains(t, all, "line 6: +14155550101 is a duplicate of line 2")
	assert.True(t, slices.ContainsFunc(all, func(s string) bool { return strings.HasPrefix(s, "line 5: ") }), "the bad number, by its line: %q", all)
	assert.Equal(t, csvinput.PhoneKey("+14155550101"), csvinput.PhoneKey("+14155550101"))
	assert.NotEqual(t, csvinput.PhoneKey("+14155550101"), csvinput.PhoneKey("+14155550102"))
}
