package sandbox

import (
	"bytes"
	_ "embed" // the products
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// product is one insurance product the sandbox books (products.json): the
// request-independent members of its policies and its price range.
type product struct {
	productStatic
	Min money `json:"min_price_cents"`
	Max money `json:"max_price_cents"`
}

type policyContent struct {
	Title             string   `json:"title"`
	Header            string   `json:"header"`
	Description       string   `json:"description"`
	OptoutMsg         string   `json:"optout_msg"`
	Inclusions        []string `json:"inclusions"`
	Exclusions        []string `json:"exclusions"`
	Disclaimer        string   `json:"disclaimer"`
	DisclaimerHTML    string   `json:"disclaimer_html"`
	PaymentDisclaimer string   `json:"payment_disclaimer"`
	InPathDisclaimer  string   `json:"in_path_disclaimer"`
	ExtraContent      []any    `json:"extra_content"`
}

type productStatic struct {
	PolicyType      string        `json:"policy_type"`
	PolicyCode      string        `json:"policy_code"`
	PolicyVersion   string        `json:"policy_version"`
	PolicyContent   policyContent `json:"policy_content"`
	ClaimSelectorID string        `json:"claim_selector_id"`
	PDSURL          string        `json:"pds_url"`
}

//go:embed products.json
var productsJSON []byte

// products returns the two products the sandbox sells.
func products() (ps [2]product) {
	if err := json.Unmarshal(productsJSON, &ps); err != nil {
		panic("sandbox: products.json: " + err.Error()) // embedded, and read by every test
	}
	return ps
}

// Layouts of the booking's date-times.
const (
	stampLayout  = "2006-01-02T15:04:05.000000Z" // Laravel's, for a UTC time
	offsetLayout = "2006-01-02T15:04:05-07:00"
	badLayout    = "2006-01-02 15:04:05" // bad-date-time drift: no T, no zone
	tzOffset     = "+10:00"
)

// booking is the data member of a 200 body. Members typed any are the document's untyped nullable
// ones (nil renders null) and those a drift mode retypes.
type booking struct {
	ID                 string       `json:"id"`
	OfferID            string       `json:"offer_id"`
	ProviderReference  string       `json:"provider_reference"`
	Language           string       `json:"language"`
	ProviderCustomerID any          `json:"provider_customer_id"`
	Status             string       `json:"status"`
	Currency           string       `json:"currency"`
	Price              any          `json:"price"` // money; a string under price-as-string
	SecurityToken      string       `json:"security_token"`
	CreatedAt          string       `json:"created_at"`
	UpdatedAt          string       `json:"updated_at"`
	IsInstantBooking   bool         `json:"is_instant_booking"`
	PaymentStatus      any          `json:"payment_status"`
	Policies           any          `json:"policies"` // []policy; one policy under policies-as-object
	Policyholder       bookedHolder `json:"policyholder"`
	Quote              struct {
		UUID string `json:"uuid"`
	} `json:"quote"`
	COI struct {
		URL string `json:"url"`
		PDF string `json:"pdf"`
	} `json:"coi"`
	AccountURL    string `json:"account_url"`
	FNOLLink      string `json:"fnol_link"`
	SignUpURL     string `json:"sign_up_url"`
	SurpriseField string `json:"surprise_field,omitempty"` // undocumented-field drift
}

type policy struct {
	Status      string `json:"status"`
	StartDate   string `json:"policy_start_date"`
	EndDate     string `json:"policy_end_date"`
	Price       money  `json:"price"`
	Tax         money  `json:"tax"`
	Commission  money  `json:"commission"`
	CoverAmount any    `json:"cover_amount"`
	productStatic
	ExtraFields struct {
		SellerEntity      string `json:"seller_entity"`
		EventDatetime     string `json:"event_datetime"`
		EventCost         any    `json:"event_cost"`
		RetailPrice       money  `json:"retail_price"`
		UWFee             money  `json:"uw_fee"`
		ReinsurerFee      money  `json:"reinsurer_fee"`
		PartnerCommission money  `json:"partner_commission"`
		CoverageGroup     string `json:"coverage_group"`
		CGBookingFee      money  `json:"cg_booking_fee"`
	} `json:"extra_fields"`
	ConfirmedAt string `json:"confirmed_at"`
	CancelledAt any    `json:"cancelled_at"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	StartTZ     string `json:"policy_start_date_tz_offset"`
	EndTZ       string `json:"policy_end_date_tz_offset"`
	ParentID    any    `json:"parent_id"`
	ID          string `json:"id"`
}

// bookedHolder is the booking's policyholder: the echoed request members and the booking's own.
type bookedHolder struct {
	policyholder
	BirthDate any    `json:"birth_date"`
	Address2  any    `json:"address2"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	ID        string `json:"id"`
}

// booking builds the booking of confirm number n: its id and generated values derive from n and the
// seed. Under EveryMember every nullable member has a value.
func (s *Server) booking(n uint64, offerID string, req *confirmRequest, now time.Time) *booking {
	r := newRNG(s.cfg.seed, n, saltBooking)
	stamp := now.UTC().Format(stampLayout)
	id := bookingID(permute50(n, s.idKey))
	pols := s.policies(&r, req.nQuotes, now, stamp)
	var total money
	for _, p := range pols {
		total += p.Price
	}
	b := &booking{
		ID: id, OfferID: offerID, ProviderReference: "CG" + id[:5] + id[6:11], Language: "en",
		Status: "CONFIRMED", Currency: "AUD", Price: total, SecurityToken: securityToken(&r),
		CreatedAt: stamp, UpdatedAt: stamp, IsInstantBooking: true, Policies: pols,
		Policyholder: bookedHolder{policyholder: req.holder, CreatedAt: stamp, UpdatedAt: stamp, ID: r.uuid()},
		AccountURL:   "https://www.xcover.com/en-au/account",
		FNOLLink:     "https://claims.xcover.com/en-au/new?booking=" + id,
		SignUpURL:    "https://www.xcover.com/en-au/sign-up?booking=" + id,
	}
	if s.cfg.drift.has(driftOfferIDNotEchoed) {
		b.OfferID = r.uuid()
	}
	b.Quote.UUID = req.quoteID
	b.COI.URL = "https://www.xcover.com/en-au/coi/" + id
	b.COI.PDF = b.COI.URL + ".pdf"
	if s.cfg.everyMember {
		b.ProviderCustomerID = "CUS-" + id[:5]
		b.PaymentStatus = "PAID"
		b.Policyholder.BirthDate = now.AddDate(-20-r.intn(50), 0, -r.intn(365)).Format(time.DateOnly)
		b.Policyholder.Address2 = "Level " + strconv.Itoa(1+r.intn(9))
	}
	return b
}

// policies builds one policy per product booked: two when the request has several quotes, otherwise
// one or two.
func (s *Server) policies(r *rng, nQuotes int, now time.Time, stamp string) []policy {
	local := now.In(s.tz)
	y, m, d := local.Date()
	event := time.Date(y, m, d+7+r.intn(120), 19, 30, 0, 0, s.tz)
	pols := make([]policy, 1+r.intn(2))
	if nQuotes > 1 {
		pols = make([]policy, 2)
	}
	for i := range pols {
		prod := &s.products[i]
		c := prod.Min + money(r.intn(int(prod.Max-prod.Min+1)))
		p := &pols[i]
		*p = policy{
			Status: "CONFIRMED", StartDate: local.Format(offsetLayout),
			EndDate: event.Add(4*time.Hour + 29*time.Minute + 59*time.Second).Format(offsetLayout), // 23:59:59
			Price:   c, Tax: (c + 5) / 11, Commission: (c + 2) / 4, productStatic: prod.productStatic,
			ConfirmedAt: stamp, CreatedAt: stamp, UpdatedAt: stamp, StartTZ: tzOffset, EndTZ: tzOffset, ID: r.uuid(),
		}
		f := &p.ExtraFields
		f.SellerEntity, f.EventDatetime, f.CoverageGroup = "Cover Genius Pty Ltd", event.Format(offsetLayout), "EVENTS"
		f.RetailPrice, f.UWFee, f.ReinsurerFee, f.PartnerCommission, f.CGBookingFee = c, c*45/100, c*5/100, (c+2)/4, c/10
		if s.cfg.everyMember {
			p.CoverAmount, f.EventCost = c*20, c*20 // the tickets' cost
			p.CancelledAt, p.ParentID = stamp, r.uuid()
			p.PolicyContent.ExtraContent = []any{map[string]string{"type": "link", "title": "Claims guide",
				"url": "https://www.xcover.com/en-au/claims"}}
		}
	}
	return pols
}

// renderBooking renders the 200 body of b, with the enabled drift modes applied.
func (s *Server) renderBooking(b *booking, now time.Time) []byte {
	d := s.cfg.drift
	if d.has(driftPriceAsString) {
		b.Price = b.Price.(money).String()
	}
	if d.has(driftBadDateTime) {
		b.CreatedAt = now.UTC().Format(badLayout)
	}
	if d.has(driftPoliciesAsObject) {
		b.Policies = b.Policies.([]policy)[0]
	}
	if d.has(driftBadEmail) {
		b.Policyholder.Email = strings.Replace(b.Policyholder.Email, "@", " at ", 1) // validated: one @
	}
	if d.has(driftBadURI) {
		b.COI.URL = strings.TrimPrefix(b.COI.URL, "https://")
	}
	if d.has(driftUndocumentedField) {
		b.SurpriseField = "not in the document"
	}
	if d.has(driftDataAsArray) {
		return marshal(map[string]any{"data": []*booking{b}})
	}
	return marshal(map[string]any{"data": b})
}

// marshal renders v as JSON without HTML escaping (disclaimer_html stays readable).
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("sandbox: render: " + err.Error()) // the sandbox's own types always marshal
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
