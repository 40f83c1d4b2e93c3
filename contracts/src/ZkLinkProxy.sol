// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @title The address and storage of zklink on one chain
/// @notice Forwards every call to the ZkLink implementation in the ERC-1967 implementation slot.
/// The implementation changes only through ZkLinkPeriphery.upgradeTo, called by the governor (a
/// Timelock), so the proxy itself has no functions that could clash with the implementation's.
contract ZkLinkProxy {
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    event Upgraded(address indexed implementation);

    /// Sets the implementation and runs `initCall` (ZkLink.initialize) on this storage in the same
    /// transaction, so nobody can initialise the deployment in between.
    constructor(address implementation, bytes memory initCall) {
        assembly {
            sstore(IMPLEMENTATION_SLOT, implementation)
        }
        emit Upgraded(implementation);
        (bool ok, bytes memory ret) = implementation.delegatecall(initCall);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    fallback() external payable {
        assembly {
            let impl := sload(IMPLEMENTATION_SLOT)
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
