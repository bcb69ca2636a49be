// placeholder until buf generate runs
export {};
