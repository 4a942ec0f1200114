package migrate_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostednumbers/hostednumbers-go/migrate"
)

func TestMetaReadsTheToolAndDemoOfVersion020IntoApp(t *testing.T) {
	var m migrate.Meta
	require.NoError(t, json.Unmarshal([]byte(`{"tool":"bulkhost","input":{"name":"in.csv","sha256":"ab","numbers":3},"batch_size":2,"contact":{"email":"a@b.c"},"demo":true,"created":"2026-01-02T03:04:05Z","batches":2}`), &m))
	assert.JSONEq(t, `{"tool":"bulkhost","demo":true}`, string(m.App))
	assert.Equal(t, 2, m.BatchSize)
	assert.Equal(t, "in.csv", m.Input.Name)
	assert.Equal(t, 2, m.Batches)

	var live migrate.Meta
	require.NoError(t, json.Unmarshal([]byte(`{"tool":"bulkhost","batch_size":2}`), &live))
	assert.JSONEq(t, `{"tool":"bulkhost"}`, string(live.App))
}

func TestMetaRoundTripKeepsApp(t *testing.T) {
	in := migrate.Meta{BatchSize: 5, Batches: 1, App: json.RawMessage(`{"tool":"x","demo":true}`)}
	data, err := json.Marshal(in)
	require.NoError(t, err)
	assert.NotContains(t, string(data), `"tool":"x","input"`, "App is its own member")
	var out migrate.Meta
	require.NoError(t, json.Unmarshal(data, &out))
	assert.JSONEq(t, string(in.App), string(out.App))
	assert.Equal(t, in.BatchSize, out.BatchSize)

	var none migrate.Meta
	require.NoError(t, json.Unmarshal([]byte(`{"batch_size":1}`), &none))
	assert.Empty(t, none.App)
}

func TestMetaRefusesUnknownMembers(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown member":    `{"batch_size":1,"colour":"blue"}`,
		"app and tool both": `{"app":{"tool":"a"},"tool":"b"}`,
		"tool not a string": `{"tool":3}`,
		"not an object":     `[1]`,
	} {
		t.Run(name, func(t *testing.T) {
			var m migrate.Meta
			assert.Error(t, json.Unmarshal([]byte(doc), &m))
		})
	}
}
