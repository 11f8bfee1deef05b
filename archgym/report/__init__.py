"""What people see: plots of a run (`plots`) and its HTML report (`html`). Both only draw what
`archgym.analysis` computes."""
