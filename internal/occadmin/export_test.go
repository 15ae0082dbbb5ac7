package occadmin

// SortColumns are the properties a list of admin profiles sorts by, for the spec test.
var SortColumns = listColumns.Sort
