module seedruleref

go 1.22
