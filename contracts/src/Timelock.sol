// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @title zklink's governor: every governance call waits out a public delay
/// @notice The admin (a multisig in production) queues a call with an execution time at least
/// `delay` ahead, which the `CallQueued` event announces, and may execute it between that time and
/// `GRACE_PERIOD` later, or cancel it. The delay and the admin change only through queued calls to
/// this contract itself. Users who object to a queued change have the delay to leave.
contract Timelock {
    uint256 public constant MIN_DELAY = 1 hours;
    uint256 public constant MAX_DELAY = 30 days;
    uint256 public constant GRACE_PERIOD = 14 days;

    address public admin;
    uint256 public delay;
    /// Queued calls by id = keccak256(abi.encode(target, value, data, eta)).
    mapping(bytes32 => bool) public queued;

    event CallQueued(bytes32 indexed id, address target, uint256 value, bytes data, uint256 eta);
    event CallExecuted(bytes32 indexed id, address target, uint256 value, bytes data, uint256 eta);
    event CallCancelled(bytes32 indexed id);
    event AdminChanged(address admin);
    event DelayChanged(uint256 delay);

    error NotAdmin();
    error NotTimelock();
    error BadDelay(uint256 delay, uint256 min, uint256 max);
    error EtaTooSoon(uint256 eta, uint256 earliest);
    error NotQueued(bytes32 id);
    error TooEarly(uint256 eta, uint256 now_);
    error Stale(uint256 deadline, uint256 now_);
    error CallFailed(bytes reason);

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin();
        _;
    }

    modifier onlyTimelock() {
        if (msg.sender != address(this)) revert NotTimelock();
        _;
    }

    constructor(address admin_, uint256 delay_) {
        _checkDelay(delay_);
        if (admin_ == address(0)) revert NotAdmin();
        admin = admin_;
        delay = delay_;
    }

    function callId(address target, uint256 value, bytes calldata data, uint256 eta) public pure returns (bytes32) {
        return keccak256(abi.encode(target, value, data, eta));
    }

    function queue(address target, uint256 value, bytes calldata data, uint256 eta)
        external
        onlyAdmin
        returns (bytes32 id)
    {
        if (eta < block.timestamp + delay) revert EtaTooSoon(eta, block.timestamp + delay);
        id = callId(target, value, data, eta);
        queued[id] = true;
        emit CallQueued(id, target, value, data, eta);
    }

    function cancel(address target, uint256 value, bytes calldata data, uint256 eta) external onlyAdmin {
        bytes32 id = callId(target, value, data, eta);
        if (!queued[id]) revert NotQueued(id);
        delete queued[id];
        emit CallCancelled(id);
    }

    function execute(address target, uint256 value, bytes calldata data, uint256 eta)
        external
        payable
        onlyAdmin
        returns (bytes memory)
    {
        bytes32 id = callId(target, value, data, eta);
        if (!queued[id]) revert NotQueued(id);
        if (block.timestamp < eta) revert TooEarly(eta, block.timestamp);
        if (block.timestamp > eta + GRACE_PERIOD) revert Stale(eta + GRACE_PERIOD, block.timestamp);
        delete queued[id];
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) revert CallFailed(ret);
        emit CallExecuted(id, target, value, data, eta);
        return ret;
    }

    function setDelay(uint256 delay_) external onlyTimelock {
        _checkDelay(delay_);
        delay = delay_;
        emit DelayChanged(delay_);
    }

    function setAdmin(address admin_) external onlyTimelock {
        if (admin_ == address(0)) revert NotAdmin();
        admin = admin_;
        emit AdminChanged(admin_);
    }

    function _checkDelay(uint256 delay_) internal pure {
        if (delay_ < MIN_DELAY || delay_ > MAX_DELAY) revert BadDelay(delay_, MIN_DELAY, MAX_DELAY);
    }
}
