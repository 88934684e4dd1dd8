package translate

import "strings"

// Severity ranks: the order Harbor uses for "the highest severity".
const (
	rankUnknown = iota
	rankNegligible
	rankLow
	rankMedium
	rankHigh
	rankCritical
)

var severityByRank = [...]string{SeverityUnknown, SeverityNegligible, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SeverityRank orders the spec's severities: Unknown 0 … Critical 5; any
// other string is 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityCritical:
		return rankCritical
	case SeverityHigh:
		return rankHigh
	case SeverityMedium:
		return rankMedium
	case SeverityLow:
		return rankLow
	case SeverityNegligible:
		return rankNegligible
	}
	return rankUnknown
}

// canonicalSeverity matches s case-insensitively against the spec's enum.
func canonicalSeverity(s string) (string, bool) {
	for _, c := range severityByRank {
		if s == c || strings.EqualFold(s, c) {
			return c, true
		}
	}
	return "", false
}

// severityFromScore is NeuVector's own rule for a vulnerability without a
// severity (controller-api.md §13.5).
func severityFromScore(score float64) string {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	}
	return SeverityLow
}

// severityFromFeed is the existing adapter's USE_FEED_BASED_SEVERITY mapping
// (controller-api.md §6).
func severityFromFeed(feedRating string, score float64) string {
	switch strings.ToLower(feedRating) {
	case "critical":
		return SeverityCritical
	case "important", "high":
		return SeverityHigh
	case "medium", "moderate":
		return SeverityMedium
	case "low", "unimportant", "negligible", "end-of-life":
		return SeverityLow
	case "none":
		return SeverityNegligible
	}
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	case score == 0:
		return SeverityNegligible
	}
	return SeverityUnknown
}

// itemSeverity is the Harbor severity of one controller vulnerability.
// Without FeedBasedSeverity NeuVector's severity passes through (title-cased
// when the case differs); an empty or unrecognised one is derived from the
// score as the controller itself does.
func itemSeverity(v *Vulnerability, feedBased bool, score float64) string {
	if feedBased {
		return severityFromFeed(v.FeedRating, score)
	}
	if s, ok := canonicalSeverity(v.Severity); ok {
		return s
	}
	return severityFromScore(score)
}
