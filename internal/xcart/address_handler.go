package xcart

import (
	"context"

	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/optional"
)

// ListProfileAddresses implements GET /api/profiles/{profile_id}/addresses: a JSON array, or a
// JSON-LD collection.
func (h *Handler) ListProfileAddresses(ctx context.Context, req gen.ListProfileAddressesRequestObject) (gen.ListProfileAddressesResponseObject, error) {
	rep := representationOf(ctx)
	page, err := h.svc.ListAddresses(ctx, req.ProfileId, req.Params.Page, req.Params.ItemsPerPage, rep.jsonld)
	if err != nil {
		return nil, err
	}
	if rep.jsonld {
		c, err := addressCollection(page, req.ProfileId, rep)
		if err != nil {
			return nil, err
		}
		return gen.ListProfileAddresses200ApplicationLdPlusJSONResponse(c), nil
	}
	out := make(gen.ListProfileAddresses200JSONResponse, len(page.Addresses))
	for i, a := range page.Addresses {
		out[i] = addressToAPI(a)
	}
	return out, nil
}

// CreateProfileAddress implements POST /api/profiles/{profile_id}/addresses: the body is
// applied as an update of every field to a new residential address.
func (h *Handler) CreateProfileAddress(ctx context.Context, req gen.CreateProfileAddressRequestObject) (gen.CreateProfileAddressResponseObject, error) {
	b, err := body(req.JSONBody, req.ApplicationLdPlusJSONBody)
	if err != nil {
		return nil, err
	}
	a := Address{ProfileID: req.ProfileId, Type: AddressResidential}
	addressChange(gen.ProfileAddressUpdate{
		IsBilling: b.IsBilling, IsShipping: b.IsShipping, IsWork: b.IsWork, Type: (*gen.ProfileAddressUpdateType)(b.Type),
		Title: b.Title, Firstname: &b.Firstname, Lastname: &b.Lastname, Phone: &b.Phone, Street: &b.Street,
		Zipcode: &b.Zipcode, City: &b.City, CountryCode: nullable.NewNullableWithValue(b.CountryCode),
		State: b.State, StateName: b.StateName,
	})(&a)
	created, err := h.svc.CreateAddress(ctx, a, customFieldNames(b.CustomFields))
	if err != nil {
		return nil, err
	}
	location := addressIRI(created.ProfileID, created.ID)
	headers := gen.AddressCreatedResponseHeaders{Location: &location}
	return answer(ctx, created, addressToAPI, addressToJSONLD,
		func(ld gen.AddressJsonld) gen.CreateProfileAddressResponseObject {
			return gen.CreateProfileAddress201ApplicationLdPlusJSONResponse{AddressCreatedApplicationLdPlusJSONResponse: gen.AddressCreatedApplicationLdPlusJSONResponse{Body: ld, Headers: headers}}
		},
		func(a gen.ProfileAddress) gen.CreateProfileAddressResponseObject {
			return gen.CreateProfileAddress201JSONResponse{AddressCreatedJSONResponse: gen.AddressCreatedJSONResponse{Body: a, Headers: headers}}
		})
}

// GetProfileAddress implements GET /api/profiles/{profile_id}/addresses/{address_id}.
func (h *Handler) GetProfileAddress(ctx context.Context, req gen.GetProfileAddressRequestObject) (gen.GetProfileAddressResponseObject, error) {
	a, err := h.svc.GetAddress(ctx, req.ProfileId, req.AddressId)
	if err != nil {
		return nil, err
	}
	return answer(ctx, a, addressToAPI, addressToJSONLD,
		func(ld gen.AddressJsonld) gen.GetProfileAddressResponseObject {
			return gen.GetProfileAddress200ApplicationLdPlusJSONResponse{AddressOKApplicationLdPlusJSONResponse: gen.AddressOKApplicationLdPlusJSONResponse(ld)}
		},
		func(a gen.ProfileAddress) gen.GetProfileAddressResponseObject {
			return gen.GetProfileAddress200JSONResponse{AddressOKJSONResponse: gen.AddressOKJSONResponse(a)}
		})
}

// UpdateProfileAddress implements PUT /api/profiles/{profile_id}/addresses/{address_id}: the
// fields sent replace the stored ones; a null country_code or state is left out, as X-Cart
// leaves it.
func (h *Handler) UpdateProfileAddress(ctx context.Context, req gen.UpdateProfileAddressRequestObject) (gen.UpdateProfileAddressResponseObject, error) {
	b, err := body(req.JSONBody, req.ApplicationLdPlusJSONBody)
	if err != nil {
		return nil, err
	}
	a, err := h.svc.UpdateAddress(ctx, req.ProfileId, req.AddressId, addressChange(*b), customFieldNames(b.CustomFields))
	if err != nil {
		return nil, err
	}
	return answer(ctx, a, addressToAPI, addressToJSONLD,
		func(ld gen.AddressJsonld) gen.UpdateProfileAddressResponseObject {
			return gen.UpdateProfileAddress200ApplicationLdPlusJSONResponse{AddressUpdatedApplicationLdPlusJSONResponse: gen.AddressUpdatedApplicationLdPlusJSONResponse(ld)}
		},
		func(a gen.ProfileAddress) gen.UpdateProfileAddressResponseObject {
			return gen.UpdateProfileAddress200JSONResponse{AddressUpdatedJSONResponse: gen.AddressUpdatedJSONResponse(a)}
		})
}

// DeleteProfileAddress implements DELETE /api/profiles/{profile_id}/addresses/{address_id}.
func (h *Handler) DeleteProfileAddress(ctx context.Context, req gen.DeleteProfileAddressRequestObject) (gen.DeleteProfileAddressResponseObject, error) {
	if err := h.svc.DeleteAddress(ctx, req.ProfileId, req.AddressId); err != nil {
		return nil, err
	}
	return gen.DeleteProfileAddress204Response{}, nil
}

// addressChange applies the fields b sends to an address; a null country_code or state is left
// out, as X-Cart leaves it.
func addressChange(b gen.ProfileAddressUpdate) func(*Address) {
	return func(a *Address) {
		optional.Set(&a.IsBilling, b.IsBilling)
		optional.Set(&a.IsShipping, b.IsShipping)
		optional.Set(&a.IsWork, b.IsWork)
		optional.Set(&a.Type, (*string)(b.Type))
		optional.Set(&a.Title, b.Title)
		optional.Set(&a.Firstname, b.Firstname)
		optional.Set(&a.Lastname, b.Lastname)
		optional.Set(&a.Phone, b.Phone)
		optional.Set(&a.Street, b.Street)
		optional.Set(&a.Zipcode, b.Zipcode)
		optional.Set(&a.City, b.City)
		optional.Set(&a.CountryCode, nullableValue(b.CountryCode))
		if s := nullableValue(b.State); s != nil {
			a.State = s
		}
		optional.Set(&a.StateName, b.StateName)
	}
}

// customFieldNames are the service names of the custom fields a request sets.
func customFieldNames(fields *[]gen.ProfileAddressCustomField) []string {
	if fields == nil {
		return nil
	}
	names := make([]string, len(*fields))
	for i, f := range *fields {
		names[i] = f.Name
	}
	return names
}

func addressToAPI(a Address) gen.ProfileAddress {
	return gen.ProfileAddress{
		Id:           a.ID,
		IsBilling:    a.IsBilling,
		IsShipping:   a.IsShipping,
		IsWork:       a.IsWork,
		Type:         gen.ProfileAddressType(a.Type),
		Title:        a.Title,
		Firstname:    a.Firstname,
		Lastname:     a.Lastname,
		Phone:        a.Phone,
		Street:       a.Street,
		Zipcode:      a.Zipcode,
		City:         a.City,
		CountryCode:  a.CountryCode,
		State:        toNullable(a.State),
		StateName:    a.StateName,
		CustomFields: []gen.ProfileAddressCustomFieldValue{},
	}
}
