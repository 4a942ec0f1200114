// Package csvinput reads and checks bulkhost's CSV of phone numbers: a
// header naming the columns, one number a row, every problem reported with
// its line (and the flag it is about, for the contact), the whole read
// through limits that keep memory bounded.
package csvinput

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hostednumbers/hostednumbers-go"
	"github.com/hostednumbers/hostednumbers-go/internal/format"
)

// CSV column names, as they must appear in the header (case and
// surrounding spaces do not matter).
const (
	colPhoneNumber          = "phone_number"
	colFriendlyName         = "friendly_name"
	colStatusCallbackURL    = "status_callback_url"
	colStatusCallbackMethod = "status_callback_method"
	colSMSURL               = "sms_url"
	colSMSMethod            = "sms_method"
	colSMSApplicationSID    = "sms_application_sid"
	colAccountSID           = "account_sid"
	colCCEmails             = "cc_emails"
)

// KnownColumns lists every column the CSV may have, phone_number first.
var KnownColumns = []string{
	colPhoneNumber, colFriendlyName, colStatusCallbackURL, colStatusCallbackMethod,
	colSMSURL, colSMSMethod, colSMSApplicationSID, colAccountSID, colCCEmails,
}

// Problem is one thing wrong with the input. Line is the CSV line it is
// about, or 0 for a flag or the file as a whole.
type Problem struct {
	Line int
	Msg  string
}

// String is the problem as the operator reads it: "line 3: …".
func (p Problem) String() string {
	if p.Line > 0 {
		return "line " + strconv.Itoa(p.Line) + ": " + p.Msg
	}
	return p.Msg
}

// List is what the CSV holds: the numbers to host, each with the
// line it came from.
type List struct {
	Numbers []hostednumbers.Number
	// Lines[i] is the CSV line of Numbers[i].
	Lines []int
	// PhoneReported holds the lines whose phone_number has already been
	// reported as a Problem, so that the same fault found again by
	// params.Validate is not reported twice.
	PhoneReported map[int]bool
}

// Read reads the whole CSV into a list (see Scan).
func Read(r io.Reader) (*List, []Problem) {
	list := &List{PhoneReported: make(map[int]bool)}
	ok, problems := Scan(r, list.PhoneReported, func(n hostednumbers.Number, line int) bool {
		list.Numbers = append(list.Numbers, n)
		list.Lines = append(list.Lines, line)
		return true
	})
	if !ok {
		return nil, problems
	}
	return list, problems
}

// PhoneKey is a phone number in E.164 form as a number, for finding
// duplicates among a million without a million strings.
func PhoneKey(e164 string) uint64 {
	k, _ := strconv.ParseUint(e164[1:], 10, 64) // E.164: at most 15 digits
	return k<<4 | uint64(len(e164)-1)           //nolint:gosec // at most 15: the length keeps +01 and +1 apart
}

// Scan reads the CSV: a header row naming the columns, then one
// phone number per row, each passed to emit with its line as it is read
// (emit returns false to stop). It reports every Problem it finds, each
// with its line, and marks in phoneReported the lines whose phone number
// it reported; rows whose shape is wrong are not emitted. ok is false
// when the header is unusable. Memory holds one row at a time, and a
// small index of the numbers seen (for duplicates).
func Scan(r io.Reader, phoneReported map[int]bool, emit func(n hostednumbers.Number, line int) bool) (ok bool, problems []Problem) {
	add := func(line int, format string, args ...any) {
		problems = append(problems, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the column count is checked here, so every bad row is reported
	cr.Comment = '#'
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		add(0, "the CSV is empty: its first line must be a header naming the columns, phone_number among them")
		return false, problems
	}
	if err != nil {
		return false, append(problems, csvReadProblem(err))
	}
	headerLine, _ := cr.FieldPos(0)
	cols := make([]string, len(header))
	at := make(map[string]int, len(header))
	var unknown []string
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write it
		}
		name := strings.ToLower(strings.TrimSpace(h))
		cols[i] = name
		switch {
		case name == "":
			add(headerLine, "column %d has no name in the header", i+1)
		case !slices.Contains(KnownColumns, name):
			unknown = append(unknown, strconv.Quote(strings.TrimSpace(h)))
		default:
			if first, dup := at[name]; dup {
				add(headerLine, "column %s appears twice in the header (columns %d and %d)", name, first+1, i+1)
			} else {
				at[name] = i
			}
		}
	}
	if len(unknown) > 0 {
		add(headerLine, "unknown column%s %s; the columns are %s",
			plural(len(unknown)), strings.Join(unknown, ", "), strings.Join(KnownColumns, ", "))
	}
	if _, ok := at[colPhoneNumber]; !ok {
		add(headerLine, "the header has no phone_number column")
	}
	if len(problems) > 0 {
		return false, problems // rows cannot be read without a sound header
	}

	firstLine := make(map[uint64]int32)
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			problems = append(problems, csvReadProblem(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue // the reader has moved past the bad record
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			add(line, "%d field%s, but the header has %d", len(rec), plural(len(rec)), len(cols))
			continue
		}
		n := numberFromRecord(cols, rec)
		switch {
		case n.PhoneNumber == "":
			add(line, "phone_number is empty")
			phoneReported[line] = true
		case !format.E164(n.PhoneNumber):
			add(line, "phone_number %q: not an E.164 number (+ then 1 to 15 digits, the first not 0)", n.PhoneNumber)
			phoneReported[line] = true
		default:
			k := PhoneKey(n.PhoneNumber)
			if first, dup := firstLine[k]; dup {
				add(line, "%s is a duplicate of line %d", n.PhoneNumber, first)
				phoneReported[line] = true
			} else {
				firstLine[k] = int32(min(line, 1<<31-1)) //nolint:gosec // bounded just before
			}
		}
		rows++
		if !emit(n, line) {
			return true, problems
		}
	}
	if rows == 0 && len(problems) == 0 {
		add(0, "the CSV lists no phone numbers: there is nothing after its header")
	}
	return true, problems
}

// numberFromRecord builds a Number from one row, cells trimmed. Empty
// cells leave their setting unset; methods are upper-cased; cc_emails is
// split at semicolons.
func numberFromRecord(cols, rec []string) hostednumbers.Number {
	var n hostednumbers.Number
	for i, cell := range rec {
		cell = strings.Clone(strings.TrimSpace(cell)) // the record's memory is reused
		if cell == "" {
			continue
		}
		switch cols[i] {
		case colPhoneNumber:
			n.PhoneNumber = cell
		case colFriendlyName:
			n.FriendlyName = cell
		case colStatusCallbackURL:
			n.StatusCallbackURL = cell
		case colStatusCallbackMethod:
			n.StatusCallbackMethod = strings.ToUpper(cell)
		case colSMSURL:
			n.SMSURL = cell
		case colSMSMethod:
			n.SMSMethod = strings.ToUpper(cell)
		case colSMSApplicationSID:
			n.SMSApplicationSID = cell
		case colAccountSID:
			n.AccountSID = cell
		case colCCEmails:
			for _, e := range strings.Split(cell, ";") {
				if e = strings.TrimSpace(e); e != "" {
					n.CCEmails = append(n.CCEmails, e)
				}
			}
		}
	}
	return n
}

func csvReadProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.Line, Msg: fmt.Sprintf("column %d: CSV syntax: %v", pe.Column, pe.Err)}
	}
	return Problem{Msg: "reading the CSV: " + err.Error()}
}

// flagForField names the flag that sets each top-level or request-item
// field of the create body.
var flagForField = map[string]string{
	"friendly_name":                         "-friendly-name",
	"notification_email":                    "-notification-email",
	"request_items[0].email":                "-email",
	"request_items[0].address_sid":          "-address-sid",
	"request_items[0].contact_phone_number": "-contact-phone",
	"request_items[0].contact_title":        "-contact-title",
}

var numberField = regexp.MustCompile(`^request_items\[0\]\.numbers\[(\d+)\]\.([a-z_]+)(?:\[\d+\])?$`)

// Validate runs the SDK's own checks on params and translates
// each FieldError to the flag or CSV line and column it came from.
func Validate(params *hostednumbers.CreateBulkHostedNumberOrderParams, list *List) []Problem {
	err := params.Validate()
	if err == nil {
		return nil
	}
	var ve *hostednumbers.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Msg: err.Error()}}
	}
	var out []Problem
	for _, fe := range ve.Problems {
		if fe.Field == "request_items[0].numbers" {
			// No numbers: Read has already said why.
			continue
		}
		if flag, ok := flagForField[fe.Field]; ok {
			out = append(out, Problem{Msg: flag + ": " + fe.Message})
			continue
		}
		if m := numberField.FindStringSubmatch(fe.Field); m != nil {
			j, _ := strconv.Atoi(m[1])
			if j < len(list.Lines) {
				line, column := list.Lines[j], m[2]
				if column == colPhoneNumber && list.PhoneReported[line] {
					continue // already reported in the CSV's own words
				}
				out = append(out, Problem{Line: line, Msg: column + ": " + fe.Message})
				continue
			}
		}
		out = append(out, Problem{Msg: fe.String()})
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
