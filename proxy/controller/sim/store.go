package sim

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// imageStore is one registry's scan results (_repo_scan or fed._repo_scan)
// by image ID, bounded, oldest evicted first; a rescan refreshes an entry.
type imageStore struct {
	max int

	mu    sync.RWMutex
	order *list.List // of *imageRecord, oldest at the front
	byID  map[string]*list.Element
	rev   uint64 // bumped on every change: the federation revision
}

type imageRecord struct {
	summary translate.RegistryImageSummary
	report  *translate.ScanRepoReport
	hash    string // hex sha256 of the encoded report, compared by federation
}

func newImageStore(bound int) *imageStore {
	return &imageStore{max: bound, order: list.New(), byID: map[string]*list.Element{}}
}

func summarize(rep *translate.ScanRepoReport, scanned time.Time) translate.RegistryImageSummary {
	sum := translate.RegistryImageSummary{
		Repository:       rep.Repository,
		Tag:              rep.Tag,
		ImageID:          rep.ImageID,
		Digest:           rep.Digest,
		Size:             rep.Size,
		Author:           rep.Author,
		CreatedAt:        rep.CreatedAt,
		Envs:             []string{},
		Labels:           map[string]string{},
		Layers:           []string{},
		Status:           "finished",
		ScannedTimeStamp: scanned.Unix(),
		ScannedAt:        scanned.UTC().Format(time.RFC3339),
		BaseOS:           rep.BaseOS,
		ScannerVersion:   rep.CVEDBVersion,
		CVEDBCreateTime:  rep.CVEDBCreateTime,
		OSScanStatus:     rep.OSScanStatus,
	}
	for i := range rep.Vulnerabilities {
		switch rep.Vulnerabilities[i].Severity {
		case "Critical":
			sum.Critical++
		case "High":
			sum.High++
		case "Medium":
			sum.Medium++
		}
	}
	return sum
}

// put stores a finished scan; body is its encoding, hashed for federation.
func (st *imageStore) put(rep *translate.ScanRepoReport, body []byte, scanned time.Time) {
	h := sha256.Sum256(body)
	st.putRecord(&imageRecord{summary: summarize(rep, scanned), report: rep, hash: hex.EncodeToString(h[:])})
}

func (st *imageStore) putRecord(rec *imageRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.rev++
	if e := st.byID[rec.summary.ImageID]; e != nil {
		e.Value = rec
		st.order.MoveToBack(e)
		return
	}
	st.byID[rec.summary.ImageID] = st.order.PushBack(rec)
	for st.order.Len() > st.max {
		old := st.order.Remove(st.order.Front()).(*imageRecord)
		delete(st.byID, old.summary.ImageID)
	}
}

func (st *imageStore) remove(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e := st.byID[id]; e != nil {
		st.order.Remove(e)
		delete(st.byID, id)
		st.rev++
	}
}

func (st *imageStore) clear() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.order.Len() > 0 {
		st.order.Init()
		clear(st.byID)
		st.rev++
	}
}

func (st *imageStore) get(id string) *imageRecord {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if e := st.byID[id]; e != nil {
		return e.Value.(*imageRecord)
	}
	return nil
}

func (st *imageStore) len() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.order.Len()
}

func (st *imageStore) revision() uint64 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.rev
}

// each visits records oldest first until f returns false.
func (st *imageStore) each(f func(*imageRecord) bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for e := st.order.Front(); e != nil; e = e.Next() {
		if !f(e.Value.(*imageRecord)) {
			return
		}
	}
}

// hashes maps image ID to record hash.
func (st *imageStore) hashes() map[string]string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	m := make(map[string]string, len(st.byID))
	for id, e := range st.byID {
		m[id] = e.Value.(*imageRecord).hash
	}
	return m
}

// filter is one f_<field>=<op>,<value> query parameter.
type filter struct {
	field  string
	op     string
	values []string
}

var filterOps = map[string]bool{
	"eq": true, "neq": true, "in": true, "notin": true, "gt": true, "gte": true, "lt": true, "lte": true, "prefix": true,
}

// parseFilters reads the controller's f_ parameters; a value without a
// known operator means eq.
func parseFilters(q map[string][]string) []filter {
	var fs []filter
	for k, vs := range q {
		field, ok := strings.CutPrefix(k, "f_")
		if !ok || field == "" {
			continue
		}
		for _, v := range vs {
			op, rest, found := strings.Cut(v, ",")
			if !found || !filterOps[op] {
				fs = append(fs, filter{field, "eq", []string{v}})
				continue
			}
			f := filter{field: field, op: op, values: []string{rest}}
			if op == "in" || op == "notin" {
				f.values = strings.Split(rest, ",")
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// fieldOf returns a summary field by its JSON name: a string, or a number
// when isNum.
func fieldOf(s *translate.RegistryImageSummary, name string) (str string, num float64, isNum, known bool) {
	switch name {
	case "domain":
		return s.Domain, 0, false, true
	case "repository":
		return s.Repository, 0, false, true
	case "tag":
		return s.Tag, 0, false, true
	case "image_id":
		return s.ImageID, 0, false, true
	case "digest":
		return s.Digest, 0, false, true
	case "author":
		return s.Author, 0, false, true
	case "status":
		return s.Status, 0, false, true
	case "base_os":
		return s.BaseOS, 0, false, true
	case "scanner_version":
		return s.ScannerVersion, 0, false, true
	case "cvedb_create_time":
		return s.CVEDBCreateTime, 0, false, true
	case "scanned_at":
		return s.ScannedAt, 0, false, true
	case "created_at":
		return s.CreatedAt, 0, false, true
	case "os_scan_status":
		return s.OSScanStatus, 0, false, true
	case "size":
		return "", float64(s.Size), true, true
	case "critical":
		return "", float64(s.Critical), true, true
	case "high":
		return "", float64(s.High), true, true
	case "medium":
		return "", float64(s.Medium), true, true
	case "scanned_timestamp":
		return "", float64(s.ScannedTimeStamp), true, true
	}
	return "", 0, false, false
}

func (f *filter) match(s *translate.RegistryImageSummary) bool {
	str, num, isNum, known := fieldOf(s, f.field)
	if !known {
		return true // the controller ignores filters on fields it does not have
	}
	cmp := func(v string) int {
		if isNum {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 1 // never equal
			}
			switch {
			case num < n:
				return -1
			case num > n:
				return 1
			}
			return 0
		}
		return strings.Compare(str, v)
	}
	v := f.values[0]
	switch f.op {
	case "eq":
		return cmp(v) == 0
	case "neq":
		return cmp(v) != 0
	case "gt":
		return cmp(v) > 0
	case "gte":
		return cmp(v) >= 0
	case "lt":
		return cmp(v) < 0
	case "lte":
		return cmp(v) <= 0
	case "prefix":
		return !isNum && strings.HasPrefix(str, v)
	case "in", "notin":
		in := false
		for _, x := range f.values {
			if cmp(x) == 0 {
				in = true
				break
			}
		}
		return in == (f.op == "in")
	}
	return false
}

// storeFor maps a registry name to its store; nil is "no such registry".
// fed._repo_scan exists only on a managed cluster whose primary shares
// repository scan data (the joint deletes it when sharing is turned off).
func (s *Sim) storeFor(name string) *imageStore {
	switch name {
	case "_repo_scan":
		return s.repo
	case "fed._repo_scan":
		if s.fedActive() {
			return s.fed
		}
	}
	return nil
}

func (rp *replica) handleImages(w http.ResponseWriter, r *http.Request, params []string) {
	if _, ok := rp.authorize(w, r, "reg_scan", false); !ok {
		return
	}
	st := rp.s.storeFor(params[0])
	if st == nil {
		writeError(w, r, http.StatusNotFound, translate.CodeObjectNotFound, "")
		return
	}
	q := r.URL.Query()
	fs := parseFilters(q)
	start, _ := strconv.Atoi(q.Get("start"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	out := translate.RegistryImagesData{Images: []translate.RegistryImageSummary{}}
	skipped := 0
	st.each(func(rec *imageRecord) bool {
		for i := range fs {
			if !fs[i].match(&rec.summary) {
				return true
			}
		}
		if skipped < start {
			skipped++
			return true
		}
		out.Images = append(out.Images, rec.summary)
		return limit <= 0 || len(out.Images) < limit
	})
	writeJSON(w, r, http.StatusOK, out)
}

func (rp *replica) handleImageReport(w http.ResponseWriter, r *http.Request, params []string) {
	if _, ok := rp.authorize(w, r, "reg_scan", false); !ok {
		return
	}
	st := rp.s.storeFor(params[0])
	var rec *imageRecord
	if st != nil {
		rec = st.get(params[1])
	}
	if rec == nil {
		writeError(w, r, http.StatusNotFound, translate.CodeObjectNotFound, "")
		return
	}
	rep := rec.report
	writeJSON(w, r, http.StatusOK, translate.ScanReportData{Report: &translate.ScanReport{
		OSScanStatus:    rep.OSScanStatus,
		Vulnerabilities: rep.Vulnerabilities,
		Modules:         rep.Modules,
		Checks:          rep.Checks,
		Secrets:         rep.Secrets,
		SetidPerms:      rep.SetidPerms,
		Envs:            rep.Envs,
		Labels:          rep.Labels,
		Cmds:            rep.Cmds,
		SignatureData:   rep.SignatureData,
	}})
}
