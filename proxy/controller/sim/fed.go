package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Federation, simplified but in the real shape (controller-api.md §15):
// a managed ("joint") sim pulls from its primary every FedPoll with
// POST /v1/fed/poll_internal and, when the repository scan revision
// changed, repeated POST /v1/fed/scan_data_internal carrying the hash of
// every image it holds; the primary answers with the changed and deleted
// images, in batches. Simplifications: the primary serves these on its
// ordinary listeners (not a separate :11443 fed server), there is no join,
// fed_auth or ticket verification (the headers must only be present), and
// only the pseudo-registry fed._repo_scan (the primary's _repo_scan) is
// synced, not fed registries.

const (
	fedRepoScan     = "fed._repo_scan"
	defaultFedBatch = 256
	fedTicket       = "sim-joint-ticket"
	fedKVVersion    = "sim"
)

type fedPollReq struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	JointTicket  string            `json:"joint_ticket"`
	FedKvVersion string            `json:"fed_kv_version"`
	RestVersion  string            `json:"rest_version"`
	Revisions    map[string]uint64 `json:"revisions"`
	CspType      string            `json:"csp_type"`
	Nodes        int               `json:"nodes"`
}

type fedScanDataRevs struct {
	RegConfigRev   uint64            `json:"reg_config_rev"`
	ScannedRegRevs map[string]uint64 `json:"scanned_reg_revs"`
	ScannedRepoRev uint64            `json:"scanned_repo_rev"`
}

type fedPollResp struct {
	Result             int             `json:"result"`
	PollInterval       uint32          `json:"poll_interval"`
	ScanDataRevs       fedScanDataRevs `json:"scan_data_revs"`
	DeployRepoScanData bool            `json:"deploy_repo_scan_data"`
}

type fedScanDataReq struct {
	ID             string                       `json:"id"`
	Name           string                       `json:"name"`
	JointTicket    string                       `json:"joint_ticket"`
	FedKvVersion   string                       `json:"fed_kv_version"`
	RestVersion    string                       `json:"rest_version"`
	RegConfigRev   uint64                       `json:"reg_config_rev"`
	UpToDateRegs   []string                     `json:"up_to_date_regs"`
	ScanResultHash map[string]map[string]string `json:"scan_result_hash"`
	IgnoreRegs     []string                     `json:"ignore_regs"`
}

type fedImageResult struct {
	Hash    string                          `json:"hash"`
	Summary *translate.RegistryImageSummary `json:"summary"`
	Report  *translate.ScanRepoReport       `json:"report"`
}

type fedScanResultData struct {
	UpdatedScanResult map[string]map[string]*fedImageResult `json:"updated_scan_result"`
	DeletedScanResult map[string][]string                   `json:"deleted_scan_result"`
	UpToDateRegs      []string                              `json:"up_to_date_regs"`
}

type fedScanDataResp struct {
	Result             int               `json:"result"`
	PollInterval       uint32            `json:"poll_interval"`
	ScanResultData     fedScanResultData `json:"scan_result_data"`
	HasMoreScanResult  bool              `json:"has_more_scan_reresult"` // sic, as the controller spells it
	ThrottleTime       int64             `json:"throttle_time"`
	DeployRepoScanData bool              `json:"deploy_repo_scan_data"`
}

func (s *Sim) pollIntervalMinutes() uint32 { return uint32(max(1, s.cfg.FedPoll/time.Minute)) }

// handleFedPoll is the primary's side of poll_internal.
func (rp *replica) handleFedPoll(w http.ResponseWriter, r *http.Request, _ []string) {
	s := rp.s
	body, err := readBody(w, r)
	var req fedPollReq
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.ID == "" {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
		return
	}
	resp := fedPollResp{PollInterval: s.pollIntervalMinutes(), DeployRepoScanData: s.fedShare}
	if s.fedShare {
		resp.ScanDataRevs.ScannedRepoRev = s.repo.revision()
	}
	writeJSON(w, r, http.StatusOK, resp)
}

// handleFedScanData is the primary's side of scan_data_internal: the
// images whose hash the joint lacks or holds differently, up to fedBatch,
// and the IDs the joint holds that the primary no longer has.
func (rp *replica) handleFedScanData(w http.ResponseWriter, r *http.Request, _ []string) {
	s := rp.s
	if r.Header.Get("X-NV-Joint-ID") == "" || r.Header.Get("X-NV-Joint-Ticket") == "" {
		writeError(w, r, http.StatusUnauthorized, 37, "")
		return
	}
	body, err := readBody(w, r)
	var req fedScanDataReq
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
		return
	}
	resp := fedScanDataResp{PollInterval: s.pollIntervalMinutes(), DeployRepoScanData: s.fedShare}
	if !s.fedShare {
		writeJSON(w, r, http.StatusOK, resp)
		return
	}
	have := req.ScanResultHash[fedRepoScan]
	updated := map[string]*fedImageResult{}
	present := map[string]bool{}
	s.repo.each(func(rec *imageRecord) bool {
		id := rec.summary.ImageID
		present[id] = true
		if have[id] == rec.hash {
			return true
		}
		if len(updated) == s.cfg.fedBatch {
			resp.HasMoreScanResult = true
			return true
		}
		sum := rec.summary
		updated[id] = &fedImageResult{Hash: rec.hash, Summary: &sum, Report: rec.report}
		return true
	})
	var deleted []string
	for id := range have {
		if !present[id] {
			deleted = append(deleted, id)
		}
	}
	resp.ScanResultData.UpdatedScanResult = map[string]map[string]*fedImageResult{fedRepoScan: updated}
	resp.ScanResultData.DeletedScanResult = map[string][]string{fedRepoScan: deleted}
	if !resp.HasMoreScanResult {
		resp.ScanResultData.UpToDateRegs = []string{fedRepoScan}
	}
	writeJSON(w, r, http.StatusOK, resp)
}

// fedActive tells whether this sim holds fed._repo_scan: it is a managed
// cluster and its primary's last answer had sharing on.
func (s *Sim) fedActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fedOn
}

func (s *Sim) setFedActive(on bool) {
	s.mu.Lock()
	s.fedOn = on
	s.mu.Unlock()
}

// fedLoop is the managed cluster's poller.
func (s *Sim) fedLoop() {
	defer s.wg.Done()
	tlsCfg := s.cfg.FedTLS
	if tlsCfg == nil {
		tlsCfg = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13} //nolint:gosec // self-signed primary, see Config.FedTLS
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: false},
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	primary := strings.TrimSuffix(s.cfg.FedPrimary, "/")
	var lastRev uint64
	synced := false
	t := time.NewTicker(s.cfg.FedPoll)
	defer t.Stop()
	for {
		rev, err := s.fedPollOnce(ctx, client, primary, lastRev, synced)
		s.st.fedPolls.Add(1)
		if err != nil {
			s.st.fedPollErrors.Add(1)
			if ctx.Err() == nil {
				s.log.Warn("federation poll failed", "primary", primary, "err", err)
			}
		} else {
			lastRev, synced = rev, true
		}
		select {
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// fedPollOnce runs one poll round and returns the primary's revision now
// reflected in fed._repo_scan.
func (s *Sim) fedPollOnce(ctx context.Context, c *http.Client, primary string, lastRev uint64, synced bool) (uint64, error) {
	var poll fedPollResp
	if err := fedPost(ctx, c, primary+"/v1/fed/poll_internal", s.jointID,
		fedPollReq{ID: s.jointID, Name: "managed-" + s.jointID, JointTicket: fedTicket, FedKvVersion: fedKVVersion, RestVersion: fedKVVersion}, &poll); err != nil {
		return 0, err
	}
	if !poll.DeployRepoScanData {
		s.setFedActive(false)
		s.fed.clear()
		return 0, nil
	}
	s.setFedActive(true)
	rev := poll.ScanDataRevs.ScannedRepoRev
	if synced && rev == lastRev {
		return rev, nil
	}
	for range 10000 { // bounded: each round moves up to Config.fedBatch images
		req := fedScanDataReq{
			ID: s.jointID, Name: "managed-" + s.jointID, JointTicket: fedTicket, FedKvVersion: fedKVVersion,
			RestVersion: fedKVVersion, ScanResultHash: map[string]map[string]string{fedRepoScan: s.fed.hashes()},
		}
		var resp fedScanDataResp
		if err := fedPost(ctx, c, primary+"/v1/fed/scan_data_internal", s.jointID, req, &resp); err != nil {
			return 0, err
		}
		if !resp.DeployRepoScanData {
			s.setFedActive(false)
			s.fed.clear()
			return 0, nil
		}
		for _, id := range resp.ScanResultData.DeletedScanResult[fedRepoScan] {
			s.fed.remove(id)
		}
		upd := resp.ScanResultData.UpdatedScanResult[fedRepoScan]
		// Stored in scan order so that eviction stays oldest-first.
		recs := make([]*imageRecord, 0, len(upd))
		for _, u := range upd {
			if u == nil || u.Summary == nil || u.Report == nil {
				continue
			}
			recs = append(recs, &imageRecord{summary: *u.Summary, report: u.Report, hash: u.Hash})
		}
		sortRecords(recs)
		for _, rec := range recs {
			s.fed.putRecord(rec)
		}
		if !resp.HasMoreScanResult {
			return rev, nil
		}
		if resp.ThrottleTime > 0 {
			select {
			case <-time.After(time.Duration(resp.ThrottleTime) * time.Millisecond):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}
	return 0, fmt.Errorf("sim: federation sync did not converge")
}

func sortRecords(recs []*imageRecord) {
	for a := 1; a < len(recs); a++ {
		for b := a; b > 0 && less(recs[b], recs[b-1]); b-- {
			recs[b], recs[b-1] = recs[b-1], recs[b]
		}
	}
}

func less(x, y *imageRecord) bool {
	if x.summary.ScannedTimeStamp != y.summary.ScannedTimeStamp {
		return x.summary.ScannedTimeStamp < y.summary.ScannedTimeStamp
	}
	return x.summary.ImageID < y.summary.ImageID
}

func fedPost(ctx context.Context, c *http.Client, url, jointID string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-NV-Joint-ID", jointID)
	req.Header.Set("X-NV-Joint-Ticket", fedTicket)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sim: %s: status %d", url, resp.StatusCode)
	}
	return json.Unmarshal(data, out)
}
