package occstore

// SortColumns are the properties a list of members sorts by, for the spec test.
var SortColumns = listColumns("").Sort
