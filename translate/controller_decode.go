package translate

import (
	stdjson "encoding/json"
	"errors"

	json "github.com/goccy/go-json"
)

// DecodeScanRepoReport decodes the 200 body of POST /v1/scan/repository
// ({"report":{…}}); a body without a report object is ErrBadReport.
func DecodeScanRepoReport(body []byte) (rep *ScanRepoReport, err error) {
	if firstByte(body) != '{' {
		return nil, errors.Join(ErrBadReport, errors.New("not a JSON object"))
	}
	// goccy/go-json has panicked on some malformed input in the past; a
	// controller body must never take the process down.
	defer func() {
		if p := recover(); p != nil {
			rep, err = nil, errors.Join(ErrBadReport, errors.New("decoder failure"))
		}
	}()
	var data ScanRepoReportData
	if err := json.Unmarshal(body, &data); err != nil {
		// goccy is lenient with some malformed input and strict where
		// encoding/json is too; the standard library decides what is JSON.
		if stdjson.Valid(body) {
			return nil, errors.Join(ErrBadReport, err)
		}
		return nil, errors.Join(ErrBadReport, errors.New("not valid JSON"))
	}
	if data.Report == nil {
		return nil, errors.Join(ErrBadReport, errors.New("no report object"))
	}
	return data.Report, nil
}
