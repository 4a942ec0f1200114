package hostednumbers

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// refDuplicateProblems is duplicate detection as it was done with a map
// of every number: the problems it reports, in order.
func refDuplicateProblems(p *CreateBulkHostedNumberOrderParams) []FieldError {
	var out []FieldError
	seen := map[string]path{}
	for i := range p.RequestItems {
		for j, n := range p.RequestItems[i].Numbers {
			if !format.E164(n.PhoneNumber) {
				continue
			}
			at := path{item: i, number: j, field: "phone_number"}
			if first, dup := seen[n.PhoneNumber]; dup {
				out = append(out, FieldError{Field: at.String(), Message: fmt.Sprintf("%s is listed twice; first at %s", n.PhoneNumber, first)})
				continue
			}
			seen[n.PhoneNumber] = path{item: i, number: j}
		}
	}
	return out
}

func duplicateProblems(err error) []FieldError {
	var out []FieldError
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if strings.Contains(p.Message, "listed twice") {
				out = append(out, p)
			}
		}
	}
	return out
}

func TestValidate_DuplicatesAreReportedInOrderWithTheirFirstPlace(t *testing.T) {
	p := &CreateBulkHostedNumberOrderParams{RequestItems: []RequestItem{
		{Email: "a@example.com", Numbers: []Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "+14155550101"}}},
		{Email: "b@example.com", Numbers: []Number{{PhoneNumber: "+14155550101"}, {PhoneNumber: "415"}, {PhoneNumber: "+14155550102"}}},
	}}
	want := []FieldError{
		{Field: "request_items[0].numbers[2].phone_number", Message: "+14155550101 is listed twice; first at request_items[0].numbers[0]"},
		{Field: "request_items[1].numbers[0].phone_number", Message: "+14155550101 is listed twice; first at request_items[0].numbers[0]"},
		{Field: "request_items[1].numbers[2].phone_number", Message: "+14155550102 is listed twice; first at request_items[0].numbers[1]"},
	}
	if got := duplicateProblems(p.Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestValidate_DuplicateDetectionMatchesAMapOfEveryNumber(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 300; round++ {
		p := &CreateBulkHostedNumberOrderParams{}
		items := 1 + rng.Intn(4)
		pool := 1 + rng.Intn(40) // few distinct numbers: duplicates are likely
		for i := 0; i < items; i++ {
			it := RequestItem{Email: "owner@example.com"}
			for j := rng.Intn(12); j > 0; j-- {
				var n string
				switch rng.Intn(10) {
				case 0:
					n = "+0" + fmt.Sprint(rng.Intn(pool)) // not E.164
				case 1:
					n = fmt.Sprintf("+%d", 1+rng.Intn(9)) // shortest form
				default:
					n = fmt.Sprintf("+1415555%04d", rng.Intn(pool))
				}
				it.Numbers = append(it.Numbers, Number{PhoneNumber: n})
			}
			p.RequestItems = append(p.RequestItems, it)
		}
		got, want := duplicateProblems(p.Validate()), refDuplicateProblems(p)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d:\ngot  %v\nwant %v", round, got, want)
		}
	}
}

func TestValidate_NoDuplicatesMakesNoMap(t *testing.T) {
	p := &CreateBulkHostedNumberOrderParams{RequestItems: []RequestItem{{Numbers: []Number{
		{PhoneNumber: "+14155550101"}, {PhoneNumber: "+14155550102"}, {PhoneNumber: "bad"}, {PhoneNumber: "+999999999999999"},
	}}}}
	if got := duplicateNumbers(p.RequestItems); got != nil {
		t.Errorf("duplicateNumbers = %v, want nil", got)
	}
	p.RequestItems[0].Numbers[3].PhoneNumber = "+14155550101"
	if got := duplicateNumbers(p.RequestItems); len(got) != 1 {
		t.Errorf("duplicateNumbers = %v, want one entry", got)
	}
}
