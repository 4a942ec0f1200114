package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBatchListNamesBatchesForAMessage(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, "no batch"},
		{[]int{4}, "batch 4"},
		{[]int{2, 5}, "batches 2 and 5"},
		{[]int{2, 5, 9}, "batches 2, 5 and 9"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "batches 1, 2, 3, 4, 5, 6, 7, 8, 9 and 10"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "batches 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"},
	} {
		assert.Equal(t, tc.want, batchList(tc.in), "%v", tc.in)
	}
}
